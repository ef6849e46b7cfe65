/**
 * How keys and values, which are arbitrary bytes, travel in the HTTP API's JSON.
 *
 * A byte string is written as a UTF-8 string under its own name (`key`, `value`) when the
 * bytes are valid UTF-8, and otherwise as standard padded base64 under the name with `Base64`
 * appended (`keyBase64`, `valueBase64`); exactly one of the two is present. Nearly every key
 * and value in practice is text, so JSON stays readable with curl, while binary data still
 * round-trips exactly. Requests may use either form for any byte field, but not both at once.
 *
 * Keys in URL paths and query strings are percent-encoded bytes instead (request.ts).
 */
import { Buffer } from 'node:buffer';

// fatal: invalid UTF-8 must fall back to base64, never be replaced with U+FFFD.
// ignoreBOM: a leading BOM is part of the bytes and must survive the round trip.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** `{ key: "text" }` or `{ keyBase64: "..." }` for field `key`. */
export type BytesJson<F extends string> = { readonly [K in F]: string } | { readonly [K in `${F}Base64`]: string };

/** The bytes as UTF-8 text, or null when they are not valid UTF-8. */
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return null;
  }
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function utf8Bytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

export function bytesJson<F extends string>(field: F, bytes: Uint8Array): BytesJson<F> {
  const text = utf8OrNull(bytes);
  // The computed property names defeat the mapped type; the shape is exactly BytesJson<F>.
  return (text === null ? { [`${field}Base64`]: toBase64(bytes) } : { [field]: text }) as BytesJson<F>;
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64: Buffer.from silently skips invalid characters, which would hide mistakes. */
export function fromBase64(text: string): Uint8Array | null {
  if (!base64Pattern.test(text)) return null;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/**
 * Reads byte field `field` of a JSON object in either form. Returns undefined when neither
 * form is present, and a string describing the problem when the field is malformed.
 */
export function bytesFromJson(record: Readonly<Record<string, unknown>>, field: string): Uint8Array | undefined | { readonly problem: string } {
  const text = record[field];
  const base64 = record[`${field}Base64`];
  if (text !== undefined && base64 !== undefined) return { problem: `give ${field} or ${field}Base64, not both` };
  if (text !== undefined) return typeof text === 'string' ? utf8Bytes(text) : { problem: `${field} must be a string` };
  if (base64 === undefined) return undefined;
  const bytes = typeof base64 === 'string' ? fromBase64(base64) : null;
  return bytes ?? { problem: `${field}Base64 must be a base64 string` };
}

/** A key for an error message: quoted text, or base64 when it is not UTF-8. */
export function describeBytes(bytes: Uint8Array): string {
  const text = utf8OrNull(bytes);
  return text === null ? `base64:${toBase64(bytes)}` : JSON.stringify(text);
}
