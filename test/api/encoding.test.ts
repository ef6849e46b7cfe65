/**
 * How the API reads and writes bytes, checked as pure functions: keys and values in JSON as
 * UTF-8 text or base64 (round trips for text, a leading BOM, invalid UTF-8 and strict base64),
 * percent-decoding of paths and query values to bytes, and typed query parameters whose
 * errors name the parameter.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../src/api/errors.js';
import { bytesFromJson, bytesJson, fromBase64, utf8Bytes } from '../../src/api/json-bytes.js';
import { parseUrl, percentDecode, Query } from '../../src/api/request.js';

function badRequestMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ApiError && error.code === 'bad_request', `expected bad_request, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected a bad_request error');
}

test('valid UTF-8 travels as text, anything else as base64, and both read back exactly', () => {
  const samples = [utf8Bytes('config/db'), utf8Bytes('snow ☃ and 𝄞'), new Uint8Array([0xef, 0xbb, 0xbf, 0x41]), new Uint8Array([0xff, 0x00, 0x80]), new Uint8Array(0)];
  for (const bytes of samples) {
    const json = bytesJson('value', bytes);
    assert.equal(Object.keys(json).length, 1);
    assert.deepEqual(bytesFromJson(json, 'value'), bytes);
  }
  assert.deepEqual(bytesJson('key', utf8Bytes('a/b')), { key: 'a/b' });
  // A leading BOM is data: decoding must not strip it, or the round trip would lose 3 bytes.
  assert.deepEqual(bytesJson('key', new Uint8Array([0xef, 0xbb, 0xbf, 0x41])), { key: '\ufeffA' });
  assert.deepEqual(bytesJson('key', new Uint8Array([0xff, 0xfe])), { keyBase64: '//4=' });
});

test('byte fields in requests: exactly one form, strict base64, problems named', () => {
  assert.equal(bytesFromJson({}, 'key'), undefined);
  assert.deepEqual(bytesFromJson({ key: 'a', keyBase64: 'YQ==' }, 'key'), { problem: 'give key or keyBase64, not both' });
  assert.deepEqual(bytesFromJson({ key: 5 }, 'key'), { problem: 'key must be a string' });
  assert.deepEqual(bytesFromJson({ valueBase64: 'not base64!' }, 'value'), { problem: 'valueBase64 must be a base64 string' });
  assert.equal(fromBase64('YQ'), null, 'unpadded base64 is refused');
  assert.deepEqual(fromBase64('YWJj'), utf8Bytes('abc'));
});

test('percent-decoding yields bytes, including non-UTF-8 ones and raw non-ASCII text', () => {
  assert.deepEqual(percentDecode('a%2Fb/c'), utf8Bytes('a/b/c'));
  assert.deepEqual(percentDecode('%FF%00'), new Uint8Array([0xff, 0x00]));
  assert.deepEqual(percentDecode('☃'), utf8Bytes('☃'));
  assert.deepEqual(percentDecode('a+b'), utf8Bytes('a+b'), 'in a path a plus is a plus');
  assert.deepEqual(percentDecode('a+b', true), utf8Bytes('a b'), 'in a query a plus is a space');
  assert.deepEqual(percentDecode('☃%41😀+%2B', true), utf8Bytes('☃A😀 +'), 'runs of raw text between escapes');
  assert.equal(percentDecode('%G1'), null);
  assert.equal(percentDecode('%4'), null);
});

test('the path keeps dot segments and encoded slashes; the query is split off', () => {
  const { path, query } = parseUrl('/v1/kv/a/../b%2F?prefix=x');
  assert.equal(path, '/v1/kv/a/../b%2F');
  assert.equal(query.text('prefix'), 'x');
});

test('query parameters are typed, and errors name the parameter', () => {
  const query = new Query('limit=10&keysOnly&revision=x&consistency=bogus&flag=maybe&prefix=a%2Bb+c');
  assert.equal(query.count('limit'), 10);
  assert.equal(query.flag('keysOnly'), true);
  assert.equal(query.flag('absent'), false);
  assert.equal(query.count('absent'), undefined);
  assert.deepEqual(query.bytes('prefix'), utf8Bytes('a+b c'));
  assert.match(badRequestMessage(() => query.count('revision')), /parameter "revision" must be a non-negative integer, not "x"/);
  assert.match(badRequestMessage(() => query.choice('consistency', ['linearizable', 'serializable'])), /"consistency" must be one of linearizable, serializable/);
  assert.match(badRequestMessage(() => query.flag('flag')), /"flag" must be true or false/);
  assert.match(badRequestMessage(() => new Query('limit=-1').count('limit')), /"limit"/);
  assert.match(badRequestMessage(() => new Query('limit=99999999999999999').count('limit')), /"limit"/);
});

test('unknown and repeated parameters are refused rather than ignored', () => {
  assert.match(badRequestMessage(() => new Query('prefx=a').allowOnly(['prefix', 'limit'])), /unknown parameter "prefx" \(expected prefix, limit\)/);
  assert.match(badRequestMessage(() => new Query('x=1').allowOnly([])), /takes none/);
  assert.match(badRequestMessage(() => new Query('limit=1&limit=2').allowOnly(['limit'])), /more than once/);
  assert.match(badRequestMessage(() => new Query('key=%FF').text('key')), /not valid percent-encoded UTF-8/);
  new Query('limit=1').allowOnly(['limit']);
});
