/**
 * The DER (X.690) encodings the cluster's certificates are made of, and a reader that splits an
 * encoding into its values. DER allows exactly one encoding per value (minimal lengths and
 * integers, sorted sets), which is what lets every node derive a byte-identical CA
 * certificate: nothing here may choose between two encodings.
 *
 * Only what certificates use: one-byte tags and values shorter than 2^53 bytes.
 */
import { Buffer } from 'node:buffer';

/** A tag with its definite, minimal length in front of the content. */
function tlv(tag: number, ...content: readonly Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Uint8Array.of(tag), lengthOctets(body.length), body]);
}

function lengthOctets(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export const sequence = (...items: readonly Uint8Array[]): Buffer => tlv(0x30, ...items);

/** A SET OF: DER orders the elements by their encodings. */
export const set = (...items: readonly Uint8Array[]): Buffer => tlv(0x31, ...[...items].sort((a, b) => Buffer.compare(a, b)));

export const boolean = (value: boolean): Buffer => tlv(0x01, Uint8Array.of(value ? 0xff : 0));

/** The non-negative integer whose big-endian bytes are `magnitude`, minimally encoded. */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  const first = magnitude.findIndex((byte) => byte !== 0);
  const digits = first === -1 ? Uint8Array.of(0) : magnitude.subarray(first);
  // A leading 1 bit would make it negative, so such a value gets a zero byte in front.
  return tlv(0x02, (digits[0] ?? 0) >= 0x80 ? Uint8Array.of(0) : new Uint8Array(0), digits);
}

export const octetString = (bytes: Uint8Array): Buffer => tlv(0x04, bytes);

/** A BIT STRING of whole bytes (a signature, a public key). */
export const bitString = (bytes: Uint8Array): Buffer => tlv(0x03, Uint8Array.of(0), bytes);

/** A named-bit BIT STRING (like keyUsage) with at least one of `bits` set (0 is the first): DER drops trailing zero bits. */
export function namedBits(bits: readonly number[]): Buffer {
  const bitCount = Math.max(...bits) + 1;
  const bytes = new Uint8Array(Math.ceil(bitCount / 8));
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
  return tlv(0x03, Uint8Array.of(bytes.length * 8 - bitCount), bytes);
}

/** An OBJECT IDENTIFIER from its dotted form: the first two arcs share a byte, each arc is base 128. */
export function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const octets = [40 * first + second, ...rest].flatMap((arc) => {
    const digits = [arc % 128];
    for (let high = Math.floor(arc / 128); high > 0; high = Math.floor(high / 128)) digits.unshift(0x80 | high % 128);
    return digits;
  });
  return tlv(0x06, Uint8Array.from(octets));
}

export const utf8String = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));

export const printableString = (text: string): Buffer => tlv(0x13, Buffer.from(text, 'latin1'));

/** A certificate time as RFC 5280 (4.1.2.5) has it: UTCTime for 1950-2049, GeneralizedTime from 2050, in whole seconds. */
export function time(date: Date): Buffer {
  const digits = date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:T]/g, '');
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'latin1')) : tlv(0x18, Buffer.from(digits, 'latin1'));
}

/** [tagNumber] EXPLICIT: the context tag wraps the value's whole encoding. */
export const explicit = (tagNumber: number, value: Uint8Array): Buffer => tlv(0xa0 | tagNumber, value);

/** [tagNumber] IMPLICIT of a primitive type: the context tag replaces the type's own, over the same content. */
export const implicit = (tagNumber: number, content: Uint8Array): Buffer => tlv(0x80 | tagNumber, content);

/** One encoded value, as `read` finds it. */
export interface Element {
  readonly tag: number;
  readonly content: Buffer;
  /** The whole encoding, tag and length included. */
  readonly encoded: Buffer;
}

/** The values encoded one after another in `bytes` (the content of a SEQUENCE, or a whole document). */
export function read(bytes: Buffer): Element[] {
  const elements: Element[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const tag = byteAt(bytes, offset);
    const first = byteAt(bytes, offset + 1);
    let length = first;
    let start = offset + 2;
    if (first >= 0x80) {
      start += first & 0x7f;
      length = 0;
      for (let i = offset + 2; i < start; i++) length = length * 256 + byteAt(bytes, i);
    }
    const end = start + length;
    if (end > bytes.length) throw new Error(`malformed DER: a value at byte ${offset} runs past the end`);
    elements.push({ tag, content: bytes.subarray(start, end), encoded: bytes.subarray(offset, end) });
    offset = end;
  }
  return elements;
}

function byteAt(bytes: Buffer, offset: number): number {
  const byte = bytes[offset];
  if (byte === undefined) throw new Error(`malformed DER: it ends inside a header at byte ${offset}`);
  return byte;
}
