/**
 * Keys and key ranges. etcd keys are arbitrary bytes ordered bytewise. Inside the store a key
 * is a latin1 "binary string": one UTF-16 code unit (0-255) per byte. JavaScript compares
 * strings code unit by code unit, which for such strings is exactly bytewise (memcmp) order,
 * so a sorted-btree with its default comparator orders keys as etcd does and a range
 * [key, rangeEnd) means the same thing. Strings are also immutable and hashable, so they can
 * be Map and Set keys without copying or custom comparators, which Uint8Array cannot.
 */
import { Buffer } from 'node:buffer';
import type { TxnRequest } from './types.js';

/** A half-open interval [start, end) of binary-string keys; `end === null` is unbounded. */
export interface BinaryRange {
  readonly start: string;
  readonly end: string | null;
}

export function bytesToBinary(bytes: Uint8Array): string {
  // A view, not a copy: Buffer.from(arrayBuffer, offset, length) shares the memory.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function binaryToBytes(binary: string): Uint8Array {
  // A plain Uint8Array (not a Buffer) so results compare equal to what callers build.
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * etcd's rangeEnd convention: absent or empty means the single key, one zero byte means every
 * key >= key, anything else is the exclusive end. The single key k is [k, k + "\0") because
 * k + "\0" is the immediate successor of k in bytewise order.
 */
export function toBinaryRange(key: Uint8Array, rangeEnd?: Uint8Array): BinaryRange {
  const start = bytesToBinary(key);
  if (rangeEnd === undefined || rangeEnd.byteLength === 0) return { start, end: start + '\0' };
  if (rangeEnd.byteLength === 1 && rangeEnd[0] === 0) return { start, end: null };
  return { start, end: bytesToBinary(rangeEnd) };
}

export function inRange(range: BinaryRange, key: string): boolean {
  return key >= range.start && (range.end === null || key < range.end);
}

/**
 * The rangeEnd that selects every key starting with `prefix` (etcd's GetPrefixRangeEnd):
 * increment the last byte that is not 0xff and drop what follows it. A prefix of only 0xff
 * bytes (or an empty one) has no such end, so it returns "\0": every key >= prefix.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.byteLength - 1; i >= 0; i--) {
    const byte = prefix[i] ?? 0xff;
    if (byte < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i] = byte + 1;
      return end;
    }
  }
  return new Uint8Array([0]);
}

/** Bytewise comparison, as etcd compares values in a transaction's compare. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** Every key or range a transaction names (compares and operations, nested ones too), for access checks. */
export function txnKeyRanges(request: TxnRequest): { readonly key: Uint8Array; readonly rangeEnd: Uint8Array | undefined }[] {
  const ops = [...request.success, ...request.failure].flatMap((op) => (op.op === 'txn' ? txnKeyRanges(op) : [{ key: op.key, rangeEnd: op.op === 'put' ? undefined : op.rangeEnd }]));
  return [...request.compares.map(({ key, rangeEnd }) => ({ key, rangeEnd })), ...ops];
}
