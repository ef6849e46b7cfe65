/**
 * Request bodies for the API fuzz tests: the JSON each route takes (a transaction, a lease, a
 * join request ...), as is or with one field mutated; arbitrary JSON; random bytes; and bodies
 * over the routes' limits. No key starts with the byte 0xfe (see http-requests.ts).
 */
import fc from 'fast-check';
import { fencingTarget } from './fencing-documents.js';
import { jobTarget } from './job-documents.js';
import { mutated, mutation } from './mutate.js';

export const keyBytes = fc.uint8Array({ maxLength: 6 }).filter((bytes) => bytes[0] !== 0xfe);

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const key = fc.oneof(fc.string({ maxLength: 6 }).map((text) => ({ key: text })), keyBytes.map((bytes) => ({ keyBase64: base64(bytes) })));
const value = fc.oneof(fc.string({ maxLength: 12 }).map((text) => ({ value: text })), fc.uint8Array({ maxLength: 12 }).map((bytes) => ({ valueBase64: base64(bytes) })));
const result = fc.constantFrom('equal', 'notEqual', 'less', 'greater');
const small = fc.integer({ min: -1, max: 20 });

const txnOp = fc.oneof(
  fc.tuple(key, value, fc.option(small, { nil: undefined })).map(([k, v, lease]) => ({ op: 'put', ...k, ...v, lease })),
  fc.tuple(key, fc.boolean()).map(([k, prefix]) => ({ op: 'delete', ...k, prefix })),
  fc.tuple(key, fc.boolean(), fc.option(small, { nil: undefined }), fc.option(small, { nil: undefined })).map(([k, prefix, limit, revision]) => ({ op: 'get', ...k, prefix, limit, revision })),
);
const compare = fc.oneof(
  fc.tuple(key, value, result).map(([k, v, r]) => ({ ...k, ...v, target: 'value', result: r })),
  fc.tuple(key, fc.constantFrom('version', 'createRevision', 'modRevision', 'lease'), result, small).map(([k, target, r, n]) => ({ ...k, target, result: r, value: n })),
);
const txn = fc.record({ compares: fc.array(compare, { maxLength: 3 }), success: fc.array(txnOp, { maxLength: 4 }), failure: fc.array(txnOp, { maxLength: 2 }) });

/** What each route with a JSON body takes. A job file's fields are not the JobSpec the API takes, so no job is ever started. */
const shapes: Readonly<Record<string, fc.Arbitrary<unknown>>> = {
  '/v1/txn': txn,
  '/v1/lease': fc.record({ ttl: small, id: fc.option(small, { nil: undefined }) }),
  '/v1/cluster/join-tokens': fc.record({ role: fc.constantFrom('server', 'worker', 'admin'), ttlSeconds: fc.integer() }),
  '/v1/cluster/join': fc.record({ tokenId: fc.constant('0123456789abcdef'), secret: fc.string(), role: fc.constantFrom('server', 'worker'), advertise: fc.constantFrom('127.0.0.9', 'x'), apiPort: fc.integer(), peerPort: fc.integer() }),
  '/v1/cluster/arbiters': fc.record({ address: fc.constantFrom('', '127.0.0.1:1', 'nowhere'), fingerprint: fc.constant(`sha256:${'0'.repeat(64)}`) }),
  '/v1/acl/tokens': fc.record({ role: fc.constantFrom('read', 'write', 'operator', 'admin', 'root'), prefix: fc.option(fc.string({ maxLength: 4 })) }),
  '/v1/jobs': jobTarget.valid,
  '/v1/nodes/{}/drain': fc.record({ enable: fc.boolean() }),
  '/v1/nodes/{}/eligibility': fc.record({ eligible: fc.boolean() }),
  '/v1/fencing': fencingTarget.valid,
};

const json = (value: unknown): Buffer => Buffer.from((JSON.stringify(value) as string | undefined) ?? '');

/** A long run of one byte, printed as such in a counterexample rather than byte by byte. */
function filler(length: number, byte: string): Buffer {
  return Object.assign(Buffer.alloc(length, byte), { [fc.toStringMethod]: () => `Buffer.alloc(${length}, '${byte}')` });
}

export function bodyFor(template: string): fc.Arbitrary<Buffer> {
  const shape = shapes[template] ?? fc.jsonValue({ maxDepth: 2 });
  return fc.oneof(
    { weight: 30, arbitrary: fc.constant(Buffer.alloc(0)) },
    { weight: 30, arbitrary: shape.map(json) },
    { weight: 30, arbitrary: fc.tuple(shape, mutation).map(([body, m]) => json(mutated(body, m))) },
    { weight: 15, arbitrary: fc.jsonValue({ maxDepth: 3 }).map(json) },
    { weight: 15, arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)) },
    // Over the 1 KiB limits of lease and flag bodies, and now and then over the 1 MiB value limit.
    { weight: 8, arbitrary: fc.integer({ min: 1025, max: 20_000 }).map((n) => filler(n, 'x')) },
    { weight: 1, arbitrary: fc.constant(1024 * 1024 + 1).map((n) => filler(n, 'y')) },
  );
}
