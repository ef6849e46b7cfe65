/**
 * The wire's framing: `[length u32 big-endian][msgpack payload]`, where `length` counts the
 * payload. @msgpack/msgpack writes plain msgpack (no extensions), so the payload is msgpack that
 * any other implementation can read. The decoder checks the announced length against
 * `frameBytesMax` as soon as the header arrives, before buffering the body, so a broken or
 * hostile peer cannot make this node allocate more than the limit.
 */
import { decode, encode } from '@msgpack/msgpack';
import { assert } from '../util/assert.js';
import { QuorateError } from '../util/errors.js';
import { msgpackBoundsProblem } from './msgpack-bounds.js';

export const frameHeaderBytes = 4;

/** Encode one frame; a payload above `frameBytesMax` is refused before anything is written. */
export function encodeFrame(value: unknown, frameBytesMax: number): Buffer {
  const payload = encode(value);
  if (payload.length > frameBytesMax) {
    throw new QuorateError('frame_too_large', `a frame of ${payload.length} bytes exceeds frameBytesMax (${frameBytesMax} bytes)`);
  }
  const frame = Buffer.allocUnsafe(frameHeaderBytes + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.set(payload, frameHeaderBytes);
  return frame;
}

/**
 * Reassembles frames from a byte stream. Bytes are kept as the chunks the socket delivered and
 * copied once, when a frame is complete, so a large frame arriving in many chunks costs one
 * copy instead of one per chunk.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** The payload length of the frame being received, once its header is in. */
  private payloadBytes: number | null = null;

  constructor(private readonly frameBytesMax: number) {}

  /** Feed bytes; returns the decoded payloads of the frames they complete. */
  push(chunk: Buffer): unknown[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const values: unknown[] = [];
    for (;;) {
      if (this.payloadBytes === null) {
        if (this.buffered < frameHeaderBytes) return values;
        const length = this.take(frameHeaderBytes).readUInt32BE(0);
        if (length > this.frameBytesMax) {
          throw new QuorateError('frame_too_large', `the peer announced a frame of ${length} bytes, more than frameBytesMax (${this.frameBytesMax} bytes)`);
        }
        this.payloadBytes = length;
      }
      if (this.buffered < this.payloadBytes) return values;
      const payload = this.take(this.payloadBytes);
      this.payloadBytes = null;
      values.push(unpack(payload));
    }
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) {
      this.buffered -= n;
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      assert(chunk !== undefined, 'take() beyond the buffered bytes');
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    this.buffered -= n;
    return out;
  }
}

function unpack(payload: Buffer): unknown {
  const problem = msgpackBoundsProblem(payload);
  if (problem !== null) throw new QuorateError('protocol_error', `a frame is not valid msgpack: ${problem}`);
  try {
    return decode(payload);
  } catch (error) {
    throw new QuorateError('protocol_error', `a frame is not valid msgpack: ${error instanceof Error ? error.message : String(error)}`);
  }
}
