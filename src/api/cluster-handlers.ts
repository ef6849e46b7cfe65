/**
 * The cluster routes of `quorate cluster join-token` and `cluster join`:
 *   GET    /v1/cluster/ca                 the CA certificate and its fingerprint (public: a joining
 *                                          node compares it with the pin in its token)
 *   POST   /v1/cluster/join-tokens        {"role": "server"|"worker", "ttlSeconds": N}   (admin)
 *   POST   /v1/cluster/ca/rotation        begin a CA rotation (server/ca-rotation.ts)      (admin)
 *   GET    /v1/cluster/ca/rotation        its step and whom the next step waits for       (admin)
 *   GET    /v1/cluster/join-tokens        every token's id, role, expiry and state        (admin)
 *   DELETE /v1/cluster/join-tokens/{id}   revoke                                          (admin)
 *   POST   /v1/cluster/join               a join token's id and secret and the node's addresses:
 *                                          its certificate and the members to dial
 *   DELETE /v1/cluster/members/{id}       remove a member through the log                 (admin)
 *   POST   /v1/cluster/arbiters           {"address": "host:port", "fingerprint"?: "sha256:…"}: attach
 *                                          an arbiter process (arbiter-enrollment.ts)       (admin)
 *   POST   /v1/cluster/leave              the answering node leaves (hands leadership over) (admin)
 *   GET    /v1/snapshot                   a backup file of the replicated state, as of a
 *                                          linearizable read (application/octet-stream)   (admin)
 * Admin calls carry `Authorization: Bearer <admin token>`; the join call is authorized by the
 * join token in its body instead.
 */
import { z } from 'zod';
import { encodeBackup } from '../cluster/backup.js';
import { certFingerprint } from '../cluster/certs.js';
import { parseAdmitRequest } from '../server/admission.js';
import { ApiError } from './errors.js';
import { ok, type Reply, type RequestContext } from './handler.js';
import { smallJsonBody } from './admin-auth.js';
import { pathSegmentText } from './request.js';
import { parseWith } from './schema.js';

const bodyBytesMax = 16 * 1024;
/** A token lives at most this long: it grants entry to the control plane. */
const tokenTtlSecondsMax = 30 * 24 * 60 * 60;

const createSchema = z
  .object({
    role: z.enum(['server', 'worker']).default('server'),
    ttlSeconds: z.number().int().min(1).max(tokenTtlSecondsMax),
  })
  .strict();


function jsonBody(context: RequestContext, what: string): Promise<unknown> {
  return smallJsonBody(context.request, what, bodyBytesMax);
}

export function caCertificate(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const pem = context.service.caCertificate();
  return Promise.resolve(ok({ caCertificate: pem, fingerprint: certFingerprint(pem) }));
}

export async function rotateCa(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  return ok(await context.service.rotateCa());
}

export async function caRotation(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  return ok(await context.service.caRotation());
}

export async function createJoinToken(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const body = parseWith(createSchema, await jsonBody(context, 'a join-token request'), 'join-token request');
  const { token, view } = await context.service.createJoinToken(body.role, body.ttlSeconds * 1000);
  return ok({ token, ...view });
}

export function listJoinTokens(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  return Promise.resolve(ok({ tokens: context.service.listJoinTokens() }));
}

export async function revokeJoinToken(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const id = context.captures[0] ?? '';
  if (!/^[0-9a-f]{16}$/.test(id)) throw new ApiError('bad_request', `"${id}" is not a join token id (16 hex digits, as \`join-token --list\` shows)`);
  return ok(await context.service.revokeJoinToken(id));
}

export async function join(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  return ok(await context.service.admit(parseAdmitRequest(await jsonBody(context, 'a join request'))));
}

export async function removeMember(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const id = pathSegmentText(context.captures[0] ?? '', 'the member id');
  await context.service.removeMember(id);
  return ok({ removed: id });
}

const arbiterSchema = z
  .object({
    address: z.string().min(1).max(300),
    fingerprint: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'a fingerprint is sha256: and 64 hex digits, as `quorate arbiter` prints it').optional(),
  })
  .strict();

export async function addArbiter(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const body = parseWith(arbiterSchema, await jsonBody(context, 'an arbiter request'), 'arbiter request');
  return ok(await context.service.addArbiter({ address: body.address, fingerprint: body.fingerprint ?? null }));
}

export async function leave(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const { id } = context.service.status();
  await context.service.leave();
  return ok({ left: id });
}

/** Answers the backup file itself, not JSON: the handler writes the response. */
export async function snapshot(context: RequestContext): Promise<null> {
  context.query.allowOnly([]);
  const bytes = encodeBackup(await context.service.backup());
  context.response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.byteLength });
  context.response.end(bytes);
  return null;
}
