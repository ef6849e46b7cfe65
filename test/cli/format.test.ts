/** The CLI's plain-text rendering of keys, values and watch events, as pure functions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KeyValue } from '../../src/client/index.js';
import { displayBytes, formatEvent, formatKvs } from '../../src/cli/format.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function kv(key: string | Uint8Array, value: string | Uint8Array, modRevision = 3): KeyValue {
  return { key: typeof key === 'string' ? bytes(key) : key, value: typeof value === 'string' ? bytes(value) : value, createRevision: 2, modRevision, version: 1, lease: 0 };
}

test('text prints as is, other bytes as base64', () => {
  assert.equal(displayBytes(bytes('a/☃')), 'a/☃');
  assert.equal(displayBytes(new Uint8Array([0xff, 0x00])), 'base64:/wA=');
});

test('a listing puts each key and its value on lines of their own', () => {
  assert.equal(formatKvs([kv('a', '1'), kv('b', new Uint8Array([0xff]))]), 'a\n1\nb\nbase64:/w==\n');
  assert.equal(formatKvs([]), '');
});

test('watch events are one line each, with the revision', () => {
  assert.equal(formatEvent({ type: 'put', kv: kv('k', 'v', 7), revision: 7 }), 'PUT k = v (revision 7)\n');
  assert.equal(formatEvent({ type: 'delete', kv: kv('k', '', 8), revision: 8 }), 'DELETE k (revision 8)\n');
});
