/**
 * Raw bytes for the HTTP API, sent as they are: well-formed requests with a few bytes damaged
 * (anywhere, or in the request target alone) or cut short, request lines and headers with arbitrary bytes, protocol oddities (other HTTP
 * versions, lying lengths, broken chunks, oversize headers, pipelining), and plain garbage.
 */
import fc from 'fast-check';
import { sometimes } from './document-text.js';
import { fuzzRequest, serialize } from './http-requests.js';

type ByteEdit = { readonly at: number; readonly kind: 'delete' } | { readonly at: number; readonly kind: 'insert' | 'replace'; readonly bytes: Uint8Array };

const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ at: fc.nat(), kind: fc.constant('delete' as const) }),
  fc.record({ at: fc.nat(), kind: fc.constantFrom('insert' as const, 'replace' as const), bytes: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 4 }), fc.constantFrom(...[' ', '\r\n', '\n', ':', '\0', '%', '?', '\x7f', '\r\n\r\n'].map((s) => Buffer.from(s)))) }),
);

function edited(bytes: Buffer, e: ByteEdit): Buffer {
  const at = e.at % (bytes.length + 1);
  if (e.kind === 'delete') return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
  return Buffer.concat([bytes.subarray(0, at), e.bytes, bytes.subarray(e.kind === 'replace' ? at + e.bytes.length : at)]);
}

const damaged = fc.tuple(fuzzRequest, fc.array(byteEdit, { minLength: 1, maxLength: 3 }), sometimes(fc.nat())).map(([request, edits, cut]) => {
  const bytes = edits.reduce(edited, serialize(request));
  return cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
});

/** Byte damage to the request target alone: bytes Node's parser may let through reach the API. */
const damagedTarget = fc.tuple(fuzzRequest, fc.array(byteEdit, { minLength: 1, maxLength: 3 })).map(([request, edits]) =>
  serialize({ ...request, target: edits.reduce(edited, Buffer.from(request.target, 'latin1')).toString('latin1') }),
);

const anyByteText = fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('latin1'));

/** A request built line by line, any line possibly made of arbitrary bytes. */
const lineByLine = fc
  .record({
    method: fc.oneof(fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'CONNECT', 'get', 'G ET', ''), anyByteText),
    target: fc.oneof(fc.constantFrom('/v1/kv', '/v1/kv/a', '/v1/txn', '/v1/kv/%FF%00', '/v1/kv/\u00e9', '*', 'http://x/v1/kv', '/v1/kv/a b', ''), anyByteText),
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1 extra', ''),
    headers: fc.array(fc.oneof(fc.constantFrom('host: x', 'content-length: 5', 'content-length: -1', 'content-length: 1e3', 'content-length: 99999999999999999999', 'transfer-encoding: chunked', 'transfer-encoding: gzip, chunked', 'expect: 100-continue', 'expect: nonsense', 'connection: upgrade', 'upgrade: h2c', ' folded: line', 'no colon', `x-long: ${'a'.repeat(20_000)}`), anyByteText), { maxLength: 4 }),
    body: fc.oneof(fc.constantFrom('', 'hello', '5\r\nhello\r\n0\r\n\r\n', 'zz\r\n', '5\r\nhi\r\n', '{"ttl":5}'), anyByteText),
  })
  .map(({ method, target, version, headers, body }) => Buffer.from(`${method} ${target} ${version}\r\n${headers.join('\r\n')}\r\n\r\n${body}`, 'latin1'));

/** Two requests on one connection, the second possibly damaged. */
const pipelined = fc.tuple(fuzzRequest, damaged).map(([first, second]) => Buffer.concat([serialize(first), second]));

/** Printed in a counterexample as the text it mostly is. */
function readable(bytes: Buffer): Buffer {
  return Object.assign(bytes, { [fc.toStringMethod]: () => `Buffer.from(${JSON.stringify(bytes.toString('latin1'))}, 'latin1')` });
}

export const rawRequest: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: damaged },
  { weight: 3, arbitrary: damagedTarget },
  { weight: 3, arbitrary: lineByLine },
  { weight: 1, arbitrary: pipelined },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
).map(readable);
