/**
 * Byte streams for the frame decoder: arbitrary bytes, plausible frames (a length header that
 * is close to the truth), valid frames, and the cuts that split a stream into the chunks a
 * socket might deliver.
 */
import fc from 'fast-check';

export function header(length: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(length, 0);
  return bytes;
}

/** A frame whose header is right, off by a little, or any 32-bit number. */
const plausibleFrame: fc.Arbitrary<Buffer> = fc
  .tuple(fc.uint8Array({ maxLength: 64 }), fc.oneof(fc.constant(0), fc.integer({ min: -3, max: 3 }), fc.nat({ max: 0xffff_ffff })))
  .map(([payload, skew]) => Buffer.concat([header(Math.max(0, Math.min(0xffff_ffff, skew === 0 ? payload.length : payload.length + skew))), payload]));

/** Garbage in the shape of a stream: random runs and plausible frames, in any order. */
export const garbageStream: fc.Arbitrary<Buffer> = fc
  .array(fc.oneof(fc.uint8Array({ maxLength: 48 }), plausibleFrame), { maxLength: 8 })
  .map((parts) => Buffer.concat(parts));

/** Cut points, as fractions of the stream so that they shrink with it. */
export const cuts: fc.Arbitrary<readonly number[]> = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

/** The stream as the chunks that `cuts` make (empty chunks included: sockets never send them, but push() must cope). */
export function chunked(stream: Buffer, at: readonly number[]): Buffer[] {
  const offsets = at.map((fraction) => Math.floor(fraction * stream.length)).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const offset of [...offsets, stream.length]) {
    chunks.push(stream.subarray(start, offset));
    start = offset;
  }
  return chunks;
}

/**
 * Values that msgpack carries unchanged. Keys named `__proto__` are left out: @msgpack/msgpack
 * refuses them on decoding (a guard against prototype pollution), so they cannot round-trip
 * and no frame of the protocol uses one. -0 becomes 0, as msgpack writes it as an integer.
 */
export const wireValue: fc.Arbitrary<unknown> = fc
  .jsonValue({ maxDepth: 3 })
  .map((value) => JSON.stringify(value))
  .filter((json) => !json.includes('"__proto__"'))
  .map((json) => JSON.parse(json) as unknown);
