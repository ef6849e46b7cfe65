/**
 * Reading a request: the path and query string as bytes, typed query parameters with errors
 * that name the parameter, and the body up to a limit.
 *
 * Keys travel percent-encoded in paths and query values and may be any bytes, so they are
 * decoded here byte by byte: decodeURIComponent would refuse bytes that are not UTF-8, and
 * the WHATWG URL parser would resolve "." and ".." segments inside a key. In query values a
 * "+" means a space, as in HTML forms and URLSearchParams; send "%2B" for a plus sign.
 */
import { Buffer } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { prefixEnd } from '../state/index.js';
import { ApiError, badRequest } from './errors.js';
import { utf8Bytes, utf8OrNull } from './json-bytes.js';

/**
 * Percent-decode to bytes; null when a "%" is not followed by two hex digits. Text between
 * escapes is UTF-8 encoded a run at a time (raw non-ASCII from a client that did not encode
 * counts as its UTF-8 bytes), and text without any escape in one call: every request decodes
 * its key this way.
 */
export function percentDecode(text: string, plusIsSpace = false): Uint8Array | null {
  const literal = plusIsSpace ? /[%+]/ : /%/;
  if (!literal.test(text)) return utf8Bytes(text);
  const parts: Uint8Array[] = [];
  let runStart = 0;
  const endRun = (end: number): void => {
    if (end > runStart) parts.push(utf8Bytes(text.slice(runStart, end)));
  };
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === 0x25 /* % */) {
      endRun(i);
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null;
      parts.push(Uint8Array.of(parseInt(hex, 16)));
      i += 2;
      runStart = i + 1;
    } else if (char === 0x2b /* + */ && plusIsSpace) {
      endRun(i);
      parts.push(Uint8Array.of(0x20));
      runStart = i + 1;
    }
  }
  endRun(text.length);
  const joined = Buffer.concat(parts);
  // A plain Uint8Array view, like every other key: Buffer's slice() would share memory.
  return new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength);
}

/**
 * A path segment that names something (a job, a node, an allocation) as text; a bad_request
 * error when it is not percent-encoded UTF-8 (decodeURIComponent would throw a URIError, which
 * the API can only answer with a 500).
 */
export function pathSegmentText(segment: string, what: string): string {
  const bytes = percentDecode(segment);
  const text = bytes === null ? null : utf8OrNull(bytes);
  if (text === null) throw badRequest(`${what} in the path is not valid percent-encoded UTF-8`);
  return text;
}

export interface ParsedUrl {
  readonly path: string;
  readonly query: Query;
}

export function parseUrl(url: string): ParsedUrl {
  const mark = url.indexOf('?');
  if (mark < 0) return { path: url, query: new Query('') };
  return { path: url.slice(0, mark), query: new Query(url.slice(mark + 1)) };
}

const flagValues: ReadonlyMap<string, boolean> = new Map([
  ['', true],
  ['true', true],
  ['1', true],
  ['false', false],
  ['0', false],
]);

/** The query string's parameters, raw (still percent-encoded), with typed accessors. */
export class Query {
  private readonly raw = new Map<string, string>();
  private readonly duplicates = new Set<string>();

  constructor(queryString: string) {
    for (const pair of queryString.split('&')) {
      if (pair === '') continue;
      const equals = pair.indexOf('=');
      const rawName = equals < 0 ? pair : pair.slice(0, equals);
      const name = this.decodeText(rawName, rawName);
      if (this.raw.has(name)) this.duplicates.add(name);
      this.raw.set(name, equals < 0 ? '' : pair.slice(equals + 1));
    }
  }

  /** Refuse parameters the route does not know, so that a typo is an error, not ignored. */
  allowOnly(names: readonly string[]): void {
    for (const name of this.raw.keys()) {
      if (!names.includes(name)) {
        throw badRequest(names.length === 0 ? `unknown parameter "${name}" (this route takes none)` : `unknown parameter "${name}" (expected ${names.join(', ')})`);
      }
      if (this.duplicates.has(name)) throw badRequest(`parameter "${name}" is given more than once`);
    }
  }

  has(name: string): boolean {
    return this.raw.has(name);
  }

  bytes(name: string): Uint8Array | undefined {
    const raw = this.raw.get(name);
    if (raw === undefined) return undefined;
    const bytes = percentDecode(raw, true);
    if (bytes === null) throw badRequest(`parameter "${name}" is not valid percent-encoding`);
    return bytes;
  }

  text(name: string): string | undefined {
    const raw = this.raw.get(name);
    return raw === undefined ? undefined : this.decodeText(raw, name);
  }

  /** A non-negative safe integer (revisions, limits, ids). */
  count(name: string): number | undefined {
    const text = this.text(name);
    if (text === undefined) return undefined;
    const value = /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(value)) throw badRequest(`parameter "${name}" must be a non-negative integer, not "${text}"`);
    return value;
  }

  /** Present without a value, "true" or "1" mean true; "false" or "0" mean false. */
  flag(name: string): boolean {
    const text = this.text(name);
    if (text === undefined) return false;
    const value = flagValues.get(text);
    if (value === undefined) throw badRequest(`parameter "${name}" must be true or false, not "${text}"`);
    return value;
  }

  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const text = this.text(name);
    if (text === undefined) return undefined;
    const choice = choices.find((candidate) => candidate === text);
    if (choice === undefined) throw badRequest(`parameter "${name}" must be one of ${choices.join(', ')}, not "${text}"`);
    return choice;
  }

  private decodeText(raw: string, name: string): string {
    const bytes = percentDecode(raw, true);
    const text = bytes === null ? null : utf8OrNull(bytes);
    if (text === null) throw badRequest(`parameter "${name}" is not valid percent-encoded UTF-8`);
    return text;
  }
}

/**
 * The request body, refused as soon as it exceeds `bytesMax`: first by its declared
 * Content-Length, before reading any of it, then while it arrives. The rest is never read
 * (the server closes the connection after answering); `tooLarge` makes the error to answer with
 * (value_too_large for a PUT's value), only when needed: an Error captures a stack, which every
 * request paying for would cost a PUT-heavy load several percent of its CPU. Events rather than `for await`, because leaving that
 * loop early destroys the socket before the 413 could be sent.
 */
export function readBody(request: IncomingMessage, bytesMax: number, tooLarge: () => ApiError): Promise<Uint8Array> {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > bytesMax) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (outcome: () => void): void => {
      request.off('data', onData).off('end', onEnd).off('error', onError);
      outcome();
    };
    const onData = (chunk: Buffer): void => {
      length += chunk.byteLength;
      if (length <= bytesMax) chunks.push(chunk);
      else finish(() => {
        request.pause();
        reject(tooLarge());
      });
    };
    const onEnd = (): void => finish(() => resolve(new Uint8Array(Buffer.concat(chunks, length))));
    // The client went away mid-body: nobody will read the answer, but it must not look like a bug.
    const onError = (): void => finish(() => reject(badRequest('the request body was cut short')));
    request.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(strictUtf8.decode(body)) as unknown;
  } catch (error) {
    throw badRequest(`the body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * The key range of every key starting with `prefix`. Keys are never empty, so the empty
 * prefix is etcd's "\0" to "\0": every key.
 */
export function prefixRange(prefix: Uint8Array): { readonly key: Uint8Array; readonly rangeEnd: Uint8Array } {
  return { key: prefix.byteLength === 0 ? new Uint8Array([0]) : prefix, rangeEnd: prefixEnd(prefix) };
}
