/**
 * The binary writer and reader behind the KV snapshot: every safe integer round-trips as a
 * varint, byte and latin1 strings keep their exact contents across buffer growth, and input
 * that ends early or holds a varint beyond 2^53 fails an assertion instead of decoding garbage.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssertionError } from '../../src/util/assert.js';
import { ByteReader, ByteWriter } from '../../src/util/bytes.js';

test('varints of safe integers round-trip, with the expected lengths', () => {
  const values = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31, 2 ** 32 + 5, 2 ** 47 - 1, Number.MAX_SAFE_INTEGER];
  const out = new ByteWriter();
  for (const v of values) out.uint(v);
  const bytes = out.finish();
  assert.equal(bytes.byteLength, 1 + 1 + 1 + 2 + 2 + 3 + 5 + 5 + 7 + 8);
  const input = new ByteReader(bytes, 'test');
  assert.deepEqual(values.map(() => input.uint()), values);
  assert.ok(input.done);
  assert.throws(() => new ByteWriter().uint(-1), AssertionError);
  assert.throws(() => new ByteWriter().uint(1.5), AssertionError);
});

test('bytes and latin1 strings survive growth beyond the initial buffer', () => {
  const big = new Uint8Array(200_000).map((_, i) => i % 251);
  const key = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
  const out = new ByteWriter();
  out.u8(7);
  out.bytes(big);
  out.latin1(key);
  out.bytes(new Uint8Array(0));
  const input = new ByteReader(out.finish(), 'test');
  assert.equal(input.u8(), 7);
  assert.deepEqual(input.bytes(), big);
  assert.equal(input.latin1(), key);
  assert.equal(input.bytes().byteLength, 0);
  assert.ok(input.done);
});

test('truncated input and overlong varints fail an assertion naming the format', () => {
  const out = new ByteWriter();
  out.bytes(new Uint8Array(10));
  const whole = out.finish();
  assert.throws(() => new ByteReader(whole.subarray(0, 5), 'snapshot').bytes(), /snapshot: 10 bytes needed at byte 1, only 4 left/);
  assert.throws(() => new ByteReader(new Uint8Array(9).fill(0xff), 'snapshot').uint(), /snapshot: varint longer than 8 bytes/);
  assert.throws(() => new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), 'snapshot').uint(), /beyond 2\^53/);
});
