/**
 * Fuzz properties of the frame decoder (src/transport/frame-codec.ts), which reads whatever a
 * peer's socket delivers: arbitrary bytes in arbitrary chunks yield frames or one of the
 * transport's two errors; the header alone refuses an oversize frame; valid frames survive any
 * split and are all delivered before the garbage that follows them; and a payload announcing
 * more than it holds is refused before msgpack allocates for it.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encode } from '@msgpack/msgpack';
import { encodeFrame, FrameDecoder, frameHeaderBytes } from '../../src/transport/frame-codec.js';
import { msgpackBoundsProblem } from '../../src/transport/msgpack-bounds.js';
import { chunked, cuts, garbageStream, header, wireValue } from './byte-streams.js';
import { expectClearError, fuzzProperty, type FuzzProperty } from './property.js';

const transportErrors = ['frame_too_large', 'protocol_error'];

/**
 * Feeds the chunks until the decoder refuses one (the connection would then be closed).
 * Returns the values decoded and the index of the refused chunk, or null.
 */
function feed(decoder: FrameDecoder, chunks: readonly Buffer[]): { values: unknown[]; refusedAt: number | null } {
  const values: unknown[] = [];
  for (const [i, chunk] of chunks.entries()) {
    try {
      values.push(...decoder.push(chunk));
    } catch (error) {
      expectClearError(error, transportErrors);
      return { values, refusedAt: i };
    }
  }
  return { values, refusedAt: null };
}

const frameBytesMax = fc.integer({ min: 0, max: 256 });

const arbitraryBytes = fc.property(fc.oneof(fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)), garbageStream), cuts, frameBytesMax, (stream, at, max) => {
  const { values } = feed(new FrameDecoder(max), chunked(stream, at));
  // Every frame costs a header and at least one payload byte (an empty payload is not msgpack).
  assert.ok(values.length <= stream.length / (frameHeaderBytes + 1));
});

/** The header of a frame over the limit is refused as soon as it is complete, before its body is buffered. */
const oversizeHeader = fc.property(frameBytesMax, fc.nat({ max: 0xffff_ffff }), fc.uint8Array({ maxLength: 64 }), cuts, (max, length, body, at) => {
  fc.pre(length > max);
  const stream = Buffer.concat([header(length), body]);
  const chunks = chunked(stream, at);
  const { refusedAt } = feed(new FrameDecoder(max), chunks);
  let received = 0;
  const headerComplete = chunks.findIndex((chunk) => (received += chunk.length) >= frameHeaderBytes);
  assert.equal(refusedAt, headerComplete);
});

/**
 * Valid frames followed by garbage: every frame that arrived in a chunk before the one the
 * decoder refuses comes out, unchanged and in order. Frames completed by the refused chunk
 * itself are lost with it (push() throws instead of returning them); the connection closes
 * there, which Raft treats like any lost message.
 */
const validThenGarbage = fc.property(fc.array(wireValue, { maxLength: 6 }), garbageStream, cuts, (values, garbage, at) => {
  const max = 1 << 16;
  const frames = values.map((value) => encodeFrame(value, max));
  const chunks = chunked(Buffer.concat([...frames, garbage]), at);
  const { values: decoded, refusedAt } = feed(new FrameDecoder(max), chunks);
  const delivered = chunks.slice(0, refusedAt ?? chunks.length).reduce((bytes, chunk) => bytes + chunk.length, 0);
  let end = 0;
  const complete = frames.filter((frame) => (end += frame.length) <= delivered).length;
  assert.ok(decoded.length >= complete, `${decoded.length} values decoded, ${complete} valid frames delivered`);
  const valid = Math.min(decoded.length, values.length);
  assert.deepEqual(decoded.slice(0, valid), values.slice(0, valid), 'the valid frames come out first, and unchanged');
});

/**
 * Nested containers whose headers announce far more values than the payload holds, as a
 * hostile peer would send to make msgpack allocate (the library allocates an announced array
 * up front). The refusal must say so, which it can only do before decoding.
 */
const containerHeader = fc.oneof(
  fc.integer({ min: 16, max: 0xffff }).map((n) => Buffer.from([0xdc, n >> 8, n & 0xff])),
  fc.integer({ min: 16, max: 70_000 }).map((n) => Buffer.concat([Buffer.of(0xdd), header(n)])),
  fc.integer({ min: 16, max: 0xffff }).map((n) => Buffer.from([0xde, n >> 8, n & 0xff])),
);
const announcedTooMuch = fc.property(fc.array(containerHeader, { minLength: 1, maxLength: 64 }), fc.uint8Array({ maxLength: 32 }), (headers, tail) => {
  const payload = Buffer.concat([...headers, tail]);
  const decoder = new FrameDecoder(1 << 16);
  assert.throws(
    () => decoder.push(Buffer.concat([header(payload.length), payload])),
    (error: unknown) => expectClearError(error, ['protocol_error']).message.includes('announces'),
  );
});

/** Values around msgpack's length boundaries (15/16, 255/256, 65535/65536). */
const sized = fc.integer({ min: 0, max: 70_000 }).chain((n) =>
  fc.constantFrom<unknown>(new Uint8Array(n), 'x'.repeat(n), new Array<number>(n).fill(7), Object.fromEntries(Array.from({ length: Math.min(n, 300) }, (_, i) => [`k${i}`, i]))),
);

/** Whatever msgpack itself writes passes the bound, however deep or wide: it refuses nothing real. */
const encodedPasses = fc.property(fc.oneof(fc.anything({ maxDepth: 4, withTypedArray: true }), sized), (value) => {
  const payload = encode(value);
  assert.equal(msgpackBoundsProblem(payload), null);
});

export const frameProperties: readonly FuzzProperty[] = [
  fuzzProperty('arbitrary bytes in arbitrary chunks: frames, frame_too_large or protocol_error, nothing else', 400, arbitraryBytes),
  fuzzProperty('a header announcing more than frameBytesMax is refused before its body is buffered', 300, oversizeHeader),
  fuzzProperty('valid frames survive any split and come out before the garbage after them', 300, validThenGarbage),
  fuzzProperty('nested containers announcing more values than the payload holds are refused before decoding', 200, announcedTooMuch),
  fuzzProperty('the bound passes whatever msgpack encodes', 300, encodedPasses),
];
