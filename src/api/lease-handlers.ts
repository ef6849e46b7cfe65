/**
 * The lease routes: grant (POST /v1/lease), revoke (DELETE /v1/lease/{id}), keep-alive
 * (POST /v1/lease/{id}/keepalive) and time-to-live with the attached keys (GET /v1/lease/{id}).
 * TTLs are in seconds. The service's lease answers carry no revision, so the node's applied
 * revision is added, as on every response. Grants go through the LeaseLedger (each principal's
 * live leases), and every answer about a lease tells it whether the lease is still there.
 */
import { z } from 'zod';
import type { LeaseStatus } from '../server/index.js';
import type { KvFailure } from '../state/index.js';
import { ApiError, badRequest, unwrap } from './errors.js';
import { caller, ok, type Reply, type RequestContext } from './handler.js';
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

/** The lease of a keep-alive or time-to-live answer, after telling the ledger what it showed. */
function noted(context: RequestContext, id: number, answer: LeaseStatus | KvFailure): LeaseStatus {
  if ('ok' in answer && answer.code === 'lease_not_found') context.leases.gone(id);
  const lease = unwrap(answer);
  context.leases.alive(id, lease.ttlSeconds);
  return lease;
}

function leaseJson(lease: LeaseStatus, revision: number, withKeys: boolean): LeaseJson {
  const json = { id: lease.id, ttl: lease.ttlSeconds, grantedTtl: lease.grantedTtlSeconds, revision };
  return withKeys ? { ...json, keys: lease.keys.map((key) => bytesJson('key', key)) } : json;
}

export async function leaseGrant(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const tooLarge = (): ApiError => new ApiError('body_too_large', `a lease body is limited to ${leaseBodyBytesMax} bytes`);
  const body = parseWith(grantSchema, parseJson(await readBody(context.request, leaseBodyBytesMax, tooLarge)), 'lease body');
  const granted = unwrap(await context.leases.grant(caller(context).name, () => context.service.leaseGrant(body.ttl, body.id)));
  return ok({ id: granted.id, ttl: granted.ttlSeconds, revision: granted.revision });
}

export async function leaseRevoke(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const id = pathLeaseId(context);
  const answer = await context.service.leaseRevoke(id);
  if (answer.ok || answer.code === 'lease_not_found') context.leases.gone(id);
  const revoked = unwrap(answer);
  return ok({ id, deleted: revoked.deleted, revision: revoked.revision });
}

export async function leaseKeepAlive(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const id = pathLeaseId(context);
  const lease = noted(context, id, await context.service.leaseKeepAlive(id));
  return ok(leaseJson(lease, context.service.status().revision, false));
}

export async function leaseTimeToLive(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const id = pathLeaseId(context);
  const lease = noted(context, id, await context.service.leaseTimeToLive(id));
  return ok(leaseJson(lease, context.service.status().revision, true));
}
