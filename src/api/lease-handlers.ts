/**
 * The lease routes: grant (POST /v1/lease), revoke (DELETE /v1/lease/{id}), keep-alive
 * (POST /v1/lease/{id}/keepalive) and time-to-live with the attached keys (GET /v1/lease/{id}).
 * TTLs are in seconds. The service's lease answers carry no revision, so the node's applied
 * revision is added, as on every response.
 */
import { z } from 'zod';
import type { LeaseStatus } from '../server/index.js';
import { ApiError, badRequest, unwrap } from './errors.js';
import { ok, type Reply, type RequestContext } from './handler.js';
import { bytesJson } from './json-bytes.js';
import { parseJson, readBody } from './request.js';
import { parseWith } from './schema.js';
import type { LeaseJson } from './wire.js';

/** `{"ttl": 30}` or `{"ttl": 30, "id": 7}` is far below this. */
const leaseBodyBytesMax = 1024;

const grantSchema = z.strictObject({ ttl: z.int().positive(), id: z.int().nonnegative().optional() });

function pathLeaseId(context: RequestContext): number {
  const text = context.captures[0] ?? '';
  const id = /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(id) || id <= 0) throw badRequest(`lease id must be a positive integer, not "${text}"`);
  return id;
}

function leaseJson(lease: LeaseStatus, revision: number, withKeys: boolean): LeaseJson {
  const json = { id: lease.id, ttl: lease.ttlSeconds, grantedTtl: lease.grantedTtlSeconds, revision };
  return withKeys ? { ...json, keys: lease.keys.map((key) => bytesJson('key', key)) } : json;
}

export async function leaseGrant(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const tooLarge = (): ApiError => new ApiError('body_too_large', `a lease body is limited to ${leaseBodyBytesMax} bytes`);
  const body = parseWith(grantSchema, parseJson(await readBody(context.request, leaseBodyBytesMax, tooLarge)), 'lease body');
  const granted = unwrap(await context.service.leaseGrant(body.ttl, body.id));
  return ok({ id: granted.id, ttl: granted.ttlSeconds, revision: granted.revision });
}

export async function leaseRevoke(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const id = pathLeaseId(context);
  const revoked = unwrap(await context.service.leaseRevoke(id));
  return ok({ id, deleted: revoked.deleted, revision: revoked.revision });
}

export async function leaseKeepAlive(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const lease = unwrap(await context.service.leaseKeepAlive(pathLeaseId(context)));
  return ok(leaseJson(lease, context.service.status().revision, false));
}

export async function leaseTimeToLive(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const lease = unwrap(await context.service.leaseTimeToLive(pathLeaseId(context)));
  return ok(leaseJson(lease, context.service.status().revision, true));
}
