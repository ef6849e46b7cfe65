/**
 * POST /v1/txn's JSON into the state machine's TxnRequest, as a pure function: every compare
 * target and op kind, text and base64 bytes, prefixes as range ends, defaults for absent
 * branches, and refusals that name the offending field.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../src/api/errors.js';
import { utf8Bytes } from '../../src/api/json-bytes.js';
import { parseTxnRequest } from '../../src/api/txn-body.js';

function refusal(body: unknown): string {
  try {
    parseTxnRequest(body);
  } catch (error) {
    assert.ok(error instanceof ApiError && error.code === 'bad_request', String(error));
    return error.message;
  }
  assert.fail('expected a refusal');
}

test('compares and ops become the state machine request', () => {
  const request = parseTxnRequest({
    compares: [
      { key: 'k', target: 'value', result: 'equal', value: 'v' },
      { keyBase64: '/w==', target: 'modRevision', result: 'less', value: 5 },
      { key: 'dir/', prefix: true, target: 'version', result: 'greater', value: 0 },
    ],
    success: [
      { op: 'put', key: 'k', valueBase64: 'AAE=', lease: 7 },
      { op: 'delete', key: 'dir/', prefix: true },
    ],
    failure: [{ op: 'get', key: 'k', limit: 2, keysOnly: true, revision: 3 }],
  });
  assert.deepEqual(request, {
    op: 'txn',
    compares: [
      { target: 'value', key: utf8Bytes('k'), rangeEnd: undefined, result: 'equal', value: utf8Bytes('v') },
      { target: 'modRevision', key: new Uint8Array([0xff]), rangeEnd: undefined, result: 'less', value: 5 },
      { target: 'version', key: utf8Bytes('dir/'), rangeEnd: utf8Bytes('dir0'), result: 'greater', value: 0 },
    ],
    success: [
      { op: 'put', key: utf8Bytes('k'), value: new Uint8Array([0, 1]), lease: 7 },
      { op: 'deleteRange', key: utf8Bytes('dir/'), rangeEnd: utf8Bytes('dir0') },
    ],
    failure: [{ op: 'range', key: utf8Bytes('k'), rangeEnd: undefined, limit: 2, keysOnly: true, revision: 3 }],
  });
});

test('absent lists are empty', () => {
  assert.deepEqual(parseTxnRequest({}), { op: 'txn', compares: [], success: [], failure: [] });
});

test('refusals name the field', () => {
  assert.match(refusal([]), /^txn body: /);
  assert.match(refusal({ compares: [{ key: 'k', target: 'value', result: 'same', value: 'v' }] }), /compares\[0\]\.result/);
  assert.match(refusal({ compares: [{ key: 'k', target: 'values', result: 'equal', value: 'v' }] }), /compares\[0\]\.target/);
  assert.match(refusal({ compares: [{ key: 'k', target: 'version', result: 'equal', value: 'one' }] }), /compares\[0\]\.value/);
  assert.match(refusal({ compares: [{ key: 'k', target: 'version', result: 'equal', value: 1.5 }] }), /compares\[0\]\.value/);
  assert.match(refusal({ compares: [{ target: 'version', result: 'equal', value: 1 }] }), /compares\[0\]: key or keyBase64 is required/);
  assert.match(refusal({ success: [{ op: 'put', key: 'k' }] }), /success\[0\]: value or valueBase64 is required/);
  assert.match(refusal({ success: [{ op: 'put', key: 'k', keyBase64: 'aw==', value: '' }] }), /success\[0\]: give key or keyBase64, not both/);
  assert.match(refusal({ failure: [{ op: 'get', key: 'k', limit: -1 }] }), /failure\[0\]\.limit/);
  assert.match(refusal({ failure: [{ op: 'range', key: 'k' }] }), /failure\[0\]\.op/);
  assert.match(refusal({ success: [{ op: 'delete', key: 'k', extra: 1 }] }), /success\[0\].*extra/);
  assert.match(refusal({ compare: [] }), /compare/);
});
