/**
 * Readers for values decoded from msgpack. A peer is authenticated but may run another
 * version or be broken, so every field is checked before it reaches the consensus core, and a
 * bad one becomes a protocol error naming the field (the connection is then closed).
 */
import { QuorateError } from '../util/errors.js';

export type WireRecord = Readonly<Record<string, unknown>>;

export function protocolError(message: string): QuorateError {
  return new QuorateError('protocol_error', message);
}

export function asRecord(value: unknown, what: string): WireRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw protocolError(`${what} is not a map`);
  }
  return value as WireRecord;
}

export function asList(value: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(value)) throw protocolError(`${what} is not a list`);
  return value;
}

/** A non-negative integer that a float64 holds exactly (indexes, terms, sizes). */
export function asCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw protocolError(`${what} is not a non-negative integer`);
  return value;
}

export function asText(value: unknown, what: string): string {
  if (typeof value !== 'string') throw protocolError(`${what} is not a string`);
  return value;
}

export function asFlag(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw protocolError(`${what} is not a boolean`);
  return value;
}

/**
 * Binary data as a plain Uint8Array view (a decoder may return Buffers, whose `slice` shares memory
 * where a Uint8Array's copies; code above the transport expects Uint8Array semantics).
 */
export function asBytes(value: unknown, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw protocolError(`${what} is not binary data`);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}
