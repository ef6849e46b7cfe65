/**
 * HTTP requests for the API fuzz tests: each route's path (mostly with a method it takes) with
 * arbitrary segments (percent escapes good and broken, any printable character), query strings
 * of the route's parameter names and others with arbitrary values, arbitrary headers (bearer
 * tokens and garbage among them) and the bodies of http-bodies.ts. Framing is always right
 * (Content-Length or chunked), so that each request is one the API must answer; raw byte
 * damage is raw-requests.ts's job.
 *
 * No generated key starts with the byte 0xfe, which marks the keys the fuzz tests watch for
 * damage (api.ts). Valid UTF-8 never contains it, so only byte generators need the rule.
 */
import fc from 'fast-check';
import { singleNodeAdminToken } from '../api/single-node.js';
import { bodyFor, keyBytes } from './http-bodies.js';

export interface FuzzRequest {
  readonly method: string;
  /** Path and query string, as the request line carries them. */
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** Chunked transfer encoding, in this many chunks; 0: Content-Length. */
  readonly chunks: number;
}

const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 8 });

const segment: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/),
  fc.constantFrom('1', '0', '-1', '7', '99999999999999999999', '0123456789abcdef', 'node-1', '1', '.', '..', '%', '%z', '%zz', '%E0', '%E0%A4', '%0', '%00', '%2F', '%C0%AF', '%ED%A0%80'),
  keyBytes.map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
  printable.filter((text) => !text.startsWith('%fe') && !text.startsWith('%FE')),
);

/** Each route with its methods and query parameters, so that most inputs get past routing. */
const routes: readonly (readonly [methods: string, template: string, parameters: string])[] = [
  ['GET', '/v1/kv', 'prefix limit keysOnly revision consistency'],
  ['GET PUT DELETE', '/v1/kv/{}', 'consistency revision lease prevModRevision prefix'],
  ['GET PUT DELETE', '/v1/kv/{}/{}', 'consistency revision lease prevModRevision prefix'],
  ['POST', '/v1/txn', ''],
  ['POST', '/v1/lease', ''],
  ['GET DELETE', '/v1/lease/{}', ''],
  ['POST', '/v1/lease/{}/keepalive', ''],
  ['GET', '/v1/watch', 'key prefix from'],
  ['GET', '/v1/status', ''],
  ['GET', '/v1/cluster/status', ''],
  ['GET', '/v1/cluster/ca', ''],
  ['GET POST', '/v1/cluster/join-tokens', ''],
  ['DELETE', '/v1/cluster/join-tokens/{}', ''],
  ['POST', '/v1/cluster/join', ''],
  ['DELETE', '/v1/cluster/members/{}', ''],
  ['POST', '/v1/cluster/leave', ''],
  ['POST', '/v1/cluster/arbiters', ''],
  ['GET POST', '/v1/acl/tokens', ''],
  ['DELETE', '/v1/acl/tokens/{}', ''],
  ['GET', '/v1/snapshot', ''],
  ['GET', '/v1/health', ''],
  ['GET POST', '/v1/jobs', ''],
  ['GET DELETE', '/v1/jobs/{}', ''],
  ['GET', '/v1/nodes', ''],
  ['POST', '/v1/nodes/{}/drain', ''],
  ['POST', '/v1/nodes/{}/eligibility', ''],
  ['POST', '/v1/nodes/{}/fence', ''],
  ['POST', '/v1/nodes/{}/confirm-dead', ''],
  ['GET PUT', '/v1/fencing', ''],
  ['POST', '/v1/agent/heartbeat', ''],
  ['GET', '/v1/allocations/{}/logs', 'stream offset follow'],
  ['GET', '/v1/{}', ''],
  ['GET', '/{}', ''],
  ['GET', '/', ''],
  ['GET', '*', ''],
];

const anyMethod = fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'PROPFIND', 'PURGE', 'TRACE', 'LOCK');
const parameterNames = ['prefix', 'limit', 'keysOnly', 'revision', 'consistency', 'lease', 'prevModRevision', 'key', 'from', 'stream', 'offset', 'follow'];
const parameterValues = ['', 'true', 'false', '1', '0', '-1', '1.5', '99999999999999999', 'linearizable', 'serializable', 'stdout', 'stderr', 'a+b', '%2B', '%FF', '%'];

function parameter(names: readonly string[]): fc.Arbitrary<string> {
  const name = names.length === 0 ? segment : fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom(...parameterNames), segment) });
  const value = fc.option(fc.oneof(fc.constantFrom(...parameterValues), segment));
  return fc.tuple(name, value).map(([n, v]) => (v === null ? n : `${n}=${v}`));
}

const headerValue = fc.oneof(printable.map((token) => `Bearer ${token}`), fc.constantFrom('Bearer', 'Bearer ', 'Basic YTpi', 'application/json', 'text/plain; charset=latin1', ''), fc.string({ maxLength: 20 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')));
/** The admin token most of the time, so that most inputs reach the handlers; none, or garbage, otherwise. */
const authorization = fc.oneof({ weight: 6, arbitrary: fc.constant(`Bearer ${singleNodeAdminToken}`) }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: headerValue });

const headerName = fc.oneof(fc.constantFrom('authorization', 'content-type', 'accept', 'x-request-id', 'cookie'), fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/)).filter(
  // Node's HTTP layer answers these itself (417 for expect, a dropped connection for upgrade),
  // and framing is set from the body; what Node does with them is not the API's to test.
  (name) => !['expect', 'upgrade', 'connection', 'content-length', 'transfer-encoding', 'host', 'te', 'trailer'].includes(name),
);

export const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.constantFrom(...routes).chain(([methods, template, parameters]) => {
  const names = parameters === '' ? [] : parameters.split(' ');
  return fc.record({
    method: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...methods.split(' ')) }, { weight: 1, arbitrary: anyMethod }),
    target: fc
      .tuple(fc.array(segment, { minLength: 3, maxLength: 3 }), fc.option(fc.array(parameter(names), { maxLength: 3 }), { freq: 2 }))
      .map(([[a = '', b = '', c = ''], query]) => template.replace('{}', a).replace('{}', b).replace('{}', c) + (query === null ? '' : `?${query.join('&')}`)),
    headers: fc.tuple(authorization, fc.array(fc.tuple(headerName, headerValue), { maxLength: 3 })).map(([auth, others]) => (auth === null ? others : [['authorization', auth] as const, ...others])),
    body: bodyFor(template),
    chunks: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
  });
});

export function serialize(request: FuzzRequest): Buffer {
  const lines = [`${request.method} ${request.target} HTTP/1.1`, 'host: 127.0.0.1', ...request.headers.map(([name, value]) => `${name}: ${value}`)];
  if (request.chunks === 0) {
    if (request.body.length > 0 || request.method !== 'GET') lines.push(`content-length: ${request.body.length}`);
    return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), request.body]);
  }
  lines.push('transfer-encoding: chunked');
  const size = Math.ceil(request.body.length / request.chunks);
  const parts: Buffer[] = [Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')];
  for (let at = 0; at < request.body.length; at += size) {
    const piece = request.body.subarray(at, at + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}
