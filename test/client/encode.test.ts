/**
 * How the client encodes requests, as pure functions: keys percent-encoded byte by byte (only
 * URL-unreserved bytes stay literal, so "/", "+", "%" and non-UTF-8 bytes survive any proxy
 * or parser), query strings, and txn input into the API's JSON with text or base64 bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { percentDecode } from '../../src/api/request.js';
import { percentEncode, queryString, txnJson } from '../../src/client/encode.js';

test('percent-encoding keeps only unreserved bytes and round-trips through the server decoder', () => {
  assert.equal(percentEncode('a/b c+d%e'), 'a%2Fb%20c%2Bd%25e');
  assert.equal(percentEncode('Az09-._~'), 'Az09-._~');
  assert.equal(percentEncode('☃'), '%E2%98%83');
  assert.equal(percentEncode(new Uint8Array([0xff, 0x00])), '%FF%00');
  for (const key of ['a/b/../c', '..', 'sp ace+plus', '\u0000\u007f', '𝄞']) {
    assert.deepEqual(percentDecode(percentEncode(key), true), new TextEncoder().encode(key), key);
  }
});

test('query strings skip undefined entries and encode bytes', () => {
  assert.equal(queryString({}), '');
  assert.equal(queryString({ a: undefined }), '');
  assert.equal(queryString({ prefix: 'x y', limit: 3, keysOnly: true, revision: undefined }), '?prefix=x%20y&limit=3&keysOnly=true');
  assert.equal(queryString({ prefix: '' }), '?prefix=');
});

test('txn input becomes the API JSON, with text or base64 bytes and absent options dropped', () => {
  const json = txnJson({
    compares: [
      { key: 'k', target: 'value', result: 'equal', value: new Uint8Array([0xff]) },
      { key: 'k', target: 'modRevision', result: 'less', value: 4, prefix: true },
    ],
    success: [{ op: 'put', key: 'k', value: 'v', lease: 3 }],
    failure: [{ op: 'get', key: 'k' }, { op: 'delete', key: 'd', prefix: true }],
  });
  assert.deepEqual(JSON.parse(JSON.stringify(json)), {
    compares: [
      { key: 'k', result: 'equal', target: 'value', valueBase64: '/w==' },
      { key: 'k', result: 'less', prefix: true, target: 'modRevision', value: 4 },
    ],
    success: [{ op: 'put', key: 'k', value: 'v', lease: 3 }],
    failure: [
      { op: 'get', key: 'k' },
      { op: 'delete', key: 'd', prefix: true },
    ],
  });
  assert.deepEqual(txnJson({}), { compares: [], success: [], failure: [] });
});
