/**
 * The wire's framing: `[length u32 big-endian][msgpack payload]`, where `length` counts the
 * payload. @msgpack/msgpack writes plain msgpack (no extensions), so the payload is msgpack that
 * any other implementation can read. The decoder checks the announced length against
 * `frameBytesMax` as soon as the header arrives, before buffering the body, so a broken or
 * hostile peer cannot make this node allocate more than the limit.
 */
import { Encoder, decode } from '@msgpack/msgpack';
import { assert } from '../util/assert.js';
import { QuorateError } from '../util/errors.js';
import { msgpackBoundsProblem } from './msgpack-bounds.js';

export const frameHeaderBytes = 4;

const noBytes = new Uint8Array(0);
/** msgpack's encoding of an empty byte string (a bin 8 header), and the bin 32 header that replaces it. */
const emptyBin = Uint8Array.of(0xc4, 0x00);
const bin32 = 0xc6;
const bin32HeaderBytes = 5;

/**
 * One encoder for every frame, whose buffer keeps the size of the largest: `encode()` starts
 * each value in 2 KiB and doubles with a copy each time it fills, ten copies for a 1 MiB MsgApp
 * (its payload is copied into the frame at once, so sharing the buffer is safe).
 */
const encoder = new Encoder();

function encode(value: unknown): Uint8Array {
  return encoder.encodeSharedRef(value);
}

/** Encode one frame; a payload above `frameBytesMax` is refused before anything is written. */
export function encodeFrame(value: unknown, frameBytesMax: number): Buffer {
  const payload = encode(value);
  checkPayloadBytes(payload.length, frameBytesMax);
  const frame = Buffer.allocUnsafe(frameHeaderBytes + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.set(payload, frameHeaderBytes);
  return frame;
}

/**
 * A frame of `{ ...head, [field]: tail }`, as two parts to be written in order: the bytes up to
 * tail's, then tail itself, uncopied. Plain msgpack of the same value as encodeFrame's (tail
 * gets a bin 32 header even where bin 8 or 16 would do, which any decoder reads). A snapshot
 * chunk (1 MiB) would otherwise be copied into msgpack's buffer and again into the frame; on a
 * leader with a large heap those short-lived megabytes set off full garbage collections that
 * took half its time while streaming a snapshot to a joining node. The map is encoded with the
 * field empty (so it comes last, and its bin 8 header ends the payload), and that header is
 * replaced with a bin 32 header announcing tail's length.
 */
export function encodeFrameWithTail(head: Readonly<Record<string, unknown>>, field: string, tail: Uint8Array, frameBytesMax: number): readonly [Buffer, Uint8Array] {
  assert(!Object.hasOwn(head, field), () => `encodeFrameWithTail: the head already has a field "${field}"`);
  const payload = encode({ ...head, [field]: noBytes });
  const prefixBytes = payload.length - emptyBin.length;
  assert(payload[prefixBytes] === emptyBin[0] && payload[prefixBytes + 1] === emptyBin[1], 'encodeFrameWithTail: the payload does not end with the empty field');
  const payloadBytes = prefixBytes + bin32HeaderBytes + tail.byteLength;
  checkPayloadBytes(payloadBytes, frameBytesMax);
  const first = Buffer.allocUnsafe(frameHeaderBytes + prefixBytes + bin32HeaderBytes);
  first.writeUInt32BE(payloadBytes, 0);
  first.set(payload.subarray(0, prefixBytes), frameHeaderBytes);
  first[frameHeaderBytes + prefixBytes] = bin32;
  first.writeUInt32BE(tail.byteLength, frameHeaderBytes + prefixBytes + 1);
  return [first, tail];
}

function checkPayloadBytes(payloadBytes: number, frameBytesMax: number): void {
  if (payloadBytes > frameBytesMax) {
    throw new QuorateError('frame_too_large', `a frame of ${payloadBytes} bytes exceeds frameBytesMax (${frameBytesMax} bytes)`);
  }
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
