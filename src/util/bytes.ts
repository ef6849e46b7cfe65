/**
 * A growable byte writer and a bounds-checked reader for compact binary formats (the KV
 * snapshot). Integers are unsigned varints (7 bits per byte, low group first) computed with
 * arithmetic rather than bit operators, so every safe integer up to 2^53 round-trips; byte
 * strings and latin1 strings carry their length as a varint in front.
 *
 * The reader reads data that storage has checksummed, so a malformed input is a bug and fails
 * an assertion that names what was being read.
 */
import { Buffer } from 'node:buffer';
import { assert } from './assert.js';

const initialBytes = 64 * 1024;
/** Chunks double up to this size: growing by copying one buffer left half a 500 MB snapshot as garbage. */
const chunkBytesMax = 4 * 1024 * 1024;
/** ceil(53 / 7): a varint of a safe integer never needs more bytes. */
const varintBytesMax = 8;

/** Writes into a list of chunks, so that growing never copies; finish() joins them once. */
export class ByteWriter {
  private readonly full: Buffer[] = [];
  private fullBytes = 0;
  private buffer = Buffer.allocUnsafe(initialBytes);
  private length = 0;

  u8(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  uint(value: number): void {
    assert(Number.isSafeInteger(value) && value >= 0, () => `varint: ${value} is not a non-negative safe integer`);
    this.reserve(varintBytesMax);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.length++] = rest;
  }

  /** Bytes as they are, without a length in front. */
  raw(value: Uint8Array): void {
    this.reserve(value.byteLength);
    this.buffer.set(value, this.length);
    this.length += value.byteLength;
  }

  bytes(value: Uint8Array): void {
    this.uint(value.byteLength);
    this.raw(value);
  }

  /** A string of code units below 256 (the store's binary keys), one byte each. */
  latin1(value: string): void {
    this.uint(value.length);
    this.reserve(value.length);
    this.length += this.buffer.write(value, this.length, 'latin1');
  }

  /** The bytes written, in one buffer of exactly their size; the writer must not be used afterwards. */
  finish(): Uint8Array {
    const last = new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.length);
    return this.full.length === 0 ? last : concat([...this.full, last]);
  }

  /** The chunks filled so far, handed over (finish() then joins only what follows). */
  takeFull(): Uint8Array[] {
    const full = this.full.splice(0);
    this.fullBytes = 0;
    return full;
  }

  /** Room for `bytes` more in the current chunk: a new chunk if it lacks it (the rest of the old one stays unused). */
  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.byteLength) return;
    this.full.push(this.buffer.subarray(0, this.length));
    this.fullBytes += this.length;
    this.buffer = Buffer.allocUnsafe(Math.max(Math.min(this.buffer.byteLength * 2, chunkBytesMax), bytes));
    this.length = 0;
  }
}

/** Every chunk of `chunks`, joined. */
export async function joinChunks(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return parts.length === 1 && parts[0] !== undefined ? parts[0] : concat(parts);
}

/** A plain Uint8Array (not a Buffer, so it compares equal to what the sync encoders give). */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

export class ByteReader {
  private readonly buffer: Buffer;
  private at = 0;

  constructor(
    data: Uint8Array,
    /** Names the format in assertion messages, e.g. 'snapshot'. */
    private readonly what: string,
  ) {
    this.buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }

  get done(): boolean {
    return this.at === this.buffer.byteLength;
  }

  u8(): number {
    this.need(1);
    return this.buffer[this.at++] ?? 0;
  }

  uint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < varintBytesMax; i++) {
      const byte = this.u8();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        assert(Number.isSafeInteger(value), () => `${this.what}: varint beyond 2^53 at byte ${this.at}`);
        return value;
      }
      scale *= 0x80;
    }
    assert(false, () => `${this.what}: varint longer than ${varintBytesMax} bytes at byte ${this.at}`);
  }

  /** A copy, so that what is kept does not pin the whole input. */
  bytes(): Uint8Array {
    const length = this.uint();
    this.need(length);
    const value = new Uint8Array(this.buffer.subarray(this.at, this.at + length));
    this.at += length;
    return value;
  }

  latin1(): string {
    const length = this.uint();
    this.need(length);
    const value = this.buffer.toString('latin1', this.at, this.at + length);
    this.at += length;
    return value;
  }

  private need(bytes: number): void {
    assert(this.at + bytes <= this.buffer.byteLength, () => `${this.what}: ${bytes} bytes needed at byte ${this.at}, only ${this.buffer.byteLength - this.at} left`);
  }
}
