/**
 * The DER writer gives the one encoding X.690 allows (minimal integers and lengths, named bits
 * without trailing zeros, sorted sets, RFC 5280's choice of time type), checked byte for byte
 * against hand-encoded values; the reader splits what the writer wrote back into its values.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as der from '../../src/cluster/der.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

test('integers are minimal and positive', () => {
  assert.equal(hex(der.unsignedInteger(Uint8Array.of(0, 0, 0x7f))), '02017f');
  assert.equal(hex(der.unsignedInteger(Uint8Array.of(0, 0x80))), '02020080');
  assert.equal(hex(der.unsignedInteger(Uint8Array.of(0, 0))), '020100');
});

test('lengths take the short form below 128 and as few bytes as they need above', () => {
  assert.equal(hex(der.octetString(new Uint8Array(127))).slice(0, 4), '047f');
  assert.equal(hex(der.octetString(new Uint8Array(200))).slice(0, 6), '0481c8');
  assert.equal(hex(der.octetString(new Uint8Array(300))).slice(0, 8), '0482012c');
});

test('object identifiers, named bits and sets', () => {
  assert.equal(hex(der.oid('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
  assert.equal(hex(der.namedBits([0])), '03020780');
  assert.equal(hex(der.namedBits([0, 5, 6])), '03020186');
  assert.equal(hex(der.namedBits([8])), '0303070080');
  assert.equal(hex(der.set(der.boolean(true), der.boolean(false))), '31060101000101ff');
});

test('times are UTCTime up to 2049 and GeneralizedTime from 2050, in whole seconds', () => {
  const text = (iso: string): string => Buffer.from(der.time(new Date(iso))).toString('latin1');
  assert.equal(text('1950-01-01T00:00:00.000Z'), '\x17\x0d500101000000Z');
  assert.equal(text('2049-12-31T23:59:59.999Z'), '\x17\x0d491231235959Z');
  assert.equal(text('2050-01-01T00:00:00.000Z'), '\x18\x0f20500101000000Z');
  assert.equal(text('1949-12-31T23:59:59.000Z'), '\x18\x0f19491231235959Z');
});

test('the reader splits an encoding into its values', () => {
  const long = new Uint8Array(300).fill(7);
  const [outer, ...rest] = der.read(der.sequence(der.boolean(true), der.octetString(long), der.implicit(7, Uint8Array.of(127, 0, 0, 1))));
  assert.ok(outer !== undefined);
  assert.equal(rest.length, 0);
  assert.deepEqual(
    der.read(outer.content).map((element) => [element.tag, hex(element.content)]),
    [
      [0x01, 'ff'],
      [0x04, hex(long)],
      [0x87, '7f000001'],
    ],
  );
  assert.throws(() => der.read(Buffer.from('0405aabb', 'hex')), /runs past the end/);
});
