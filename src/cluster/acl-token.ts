/**
 * API tokens (ACL tokens, like Consul's and Nomad's): `quorate acl token create --role R
 * [--prefix P]` hands one out, once; every API call presents one (or the admin token) as
 * `Authorization: Bearer <token>`. The cluster stores only the id, a SHA-256 of the secret, the
 * role and the key prefix (state/credentials.ts).
 *
 * Text form: `qat1_<id: 16 hex>_<secret: base64url of 24 bytes>`. The prefix tells it apart
 * from a join token (`qrt1_`, which admits a node and is refused here) and from the admin token.
 *
 * Roles, each including the ones before it: read (KV reads and watches, status, jobs, nodes,
 * fencing), write (KV writes, transactions, leases), operator (jobs, drains, fencing, logs),
 * admin (tokens, members, arbiters, backups). A prefix limits the KV keys a token may touch.
 */
import { randomBytes } from 'node:crypto';
import type { AclRole } from '../state/index.js';

const tokenPrefix = 'qat1_';
const pattern = /^qat1_([0-9a-f]{16})_([A-Za-z0-9_-]{32})$/;

export interface AclToken {
  readonly id: string;
  readonly secret: string;
}

/** What a route needs; a role grants its own and every lower level. */
export type Permission = 'read' | 'write' | 'operate' | 'admin';

const levelOf: Readonly<Record<AclRole, number>> = { read: 0, write: 1, operator: 2, admin: 3 };
const needed: Readonly<Record<Permission, number>> = { read: 0, write: 1, operate: 2, admin: 3 };

export function roleAllows(role: AclRole, permission: Permission): boolean {
  return levelOf[role] >= needed[permission];
}

export function newAclToken(): AclToken {
  return { id: randomBytes(8).toString('hex'), secret: randomBytes(24).toString('base64url') };
}

export function formatAclToken(token: AclToken): string {
  return `${tokenPrefix}${token.id}_${token.secret}`;
}

/** The token's parts, or null when the text is not an API token (it may be the admin token). */
export function parseAclToken(text: string): AclToken | null {
  const match = pattern.exec(text);
  return match === null ? null : { id: match[1] ?? '', secret: match[2] ?? '' };
}
