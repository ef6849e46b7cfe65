/**
 * The API token routes of `quorate acl token` (all admin, checked by the route table):
 *   POST   /v1/acl/tokens        {"role": "read"|"write"|"operator"|"admin", "prefix"?: "P"} -> the
 *                                token (shown once), id, role, prefix
 *   GET    /v1/acl/tokens        every token's id, role, prefix, state (never secrets)
 *   DELETE /v1/acl/tokens/{id}   revoke
 */
import { z } from 'zod';
import { aclRoles } from '../state/index.js';
import { smallJsonBody } from './admin-auth.js';
import { ApiError } from './errors.js';
import { ok, type Reply, type RequestContext } from './handler.js';
import { parseWith } from './schema.js';

const bodyBytesMax = 16 * 1024;

const createSchema = z
  .object({
    role: z.enum(aclRoles),
    prefix: z.string().min(1).max(1024).optional(),
  })
  .strict();

export async function createAclToken(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const body = parseWith(createSchema, await smallJsonBody(context.request, 'an API token request', bodyBytesMax), 'API token request');
  const { token, view } = await context.service.createAclToken(body.role, body.prefix ?? null);
  return ok({ token, ...view });
}

export function listAclTokens(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  return Promise.resolve(ok({ tokens: context.service.listAclTokens() }));
}

export async function revokeAclToken(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const id = context.captures[0] ?? '';
  if (!/^[0-9a-f]{16}$/.test(id)) throw new ApiError('bad_request', `"${id}" is not an API token id (16 hex digits, as \`acl token list\` shows)`);
  return ok(await context.service.revokeAclToken(id));
}
