/**
 * Who may use the API (issue 9): the admin token, and API tokens with a role and an optional
 * key prefix (cluster/acl-token.ts). Tokens are created and revoked through the log, so every
 * node authenticates against its applied state: a new token works on a follower once it has
 * applied it (milliseconds), and so does a revocation. A join token is refused here by name: it
 * admits a node and is worth nothing else.
 */
import { formatAclToken, newAclToken, parseAclToken, roleAllows } from '../cluster/acl-token.js';
import { secretHash, secretMatches } from '../cluster/join-token.js';
import { encodeCredentialCommand, type AclRole, type AclTokenRecord, type ClusterStateMachine, type CredentialRegistry } from '../state/index.js';
import type { LogReaders } from '../workload/protocol.js';
import { QuorateError } from '../util/errors.js';

/** Who a request comes from, once its token checked out. */
export interface Principal {
  readonly role: AclRole;
  /** The KV keys it may touch start with this; null: any. */
  readonly prefix: string | null;
  /** "admin", or the API token's id (for logs: never the secret). */
  readonly name: string;
}

/**
 * `caughtUp: false`: this node cannot judge the token yet, because it has not received the
 * cluster's state (it is joining, and the tokens come with the leader's snapshot). That is no
 * failed attempt of the caller's: the APIs answer "unavailable, try again", not "forbidden".
 */
export type Authentication = { readonly ok: true; readonly principal: Principal } | { readonly ok: false; readonly message: string; readonly caughtUp: boolean };

export interface AclTokenView {
  readonly id: string;
  readonly role: AclRole;
  readonly prefix: string | null;
  readonly createdAt: string;
  readonly state: 'valid' | 'revoked';
  readonly revokedAt: string | null;
}

export interface AccessContext {
  readonly state: ClusterStateMachine;
  /** Replicate an encoded command through the leader. */
  readonly propose: (data: Uint8Array) => Promise<unknown>;
  /** Wall-clock milliseconds (token records are for people). */
  readonly now: () => number;
}

/** Bounds a heartbeat answer: the newest this many operator and admin API tokens can read workers' logs. */
const logReadersMax = 1000;

/** Who may read allocation logs on a worker (sent with heartbeat answers): hashes only, never secrets. */
export function logReaders(credentials: CredentialRegistry): LogReaders {
  const tokens = credentials
    .aclTokenList()
    .filter((token) => token.revokedAtMs === null && roleAllows(token.role, 'operate'))
    .slice(-logReadersMax)
    .map(({ id, secretHash }) => ({ id, secretHash }));
  return { adminTokenHash: credentials.adminTokenHash, tokens };
}

/** Tokens remembered as verified at most; the oldest is forgotten first. */
const verifiedTokensMax = 1000;

interface Verified {
  readonly principal: Principal;
  /** Whether the record the token was verified against is still the current one. */
  readonly current: () => boolean;
}

const notCaughtUp = 'this node has not received the cluster state yet (it is joining), so it cannot check tokens; try again in a moment, or ask another node';
const invalid = 'the token is not valid for this cluster (a mistyped token, a token of another cluster, or one that was never created)';

export class AccessControl {
  /**
   * Tokens that checked out, by the token itself: a busy client sends the same token with every
   * request, and hashing it each time was a visible share of the etcd API's CPU. An entry counts
   * only while the record it was checked against is still the current one: the registry
   * replaces a record when it is revoked and every record when a snapshot is restored, and an
   * admin token is checked against the hash it matched, so a revocation applies at once.
   * Failures are not remembered: each one still counts against the caller's address.
   */
  private readonly verified = new Map<string, Verified>();

  constructor(private readonly ctx: AccessContext) {}

  authenticate(token: string): Authentication {
    const known = this.verified.get(token);
    if (known?.current() === true) return { ok: true, principal: known.principal };
    this.verified.delete(token);
    const result = this.verify(token);
    if (result.ok) {
      this.remember(token, result.verified);
      return { ok: true, principal: result.verified.principal };
    }
    // A node joining the cluster knows no members until the leader's snapshot arrives.
    if (this.ctx.state.members.list().length === 0) return { ok: false, caughtUp: false, message: notCaughtUp };
    return { ok: false, caughtUp: true, message: result.message };
  }

  private remember(token: string, verified: Verified): void {
    if (this.verified.size >= verifiedTokensMax) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(token, verified);
  }

  private verify(token: string): { readonly ok: true; readonly verified: Verified } | { readonly ok: false; readonly message: string } {
    const { credentials } = this.ctx.state;
    const adminHash = credentials.adminTokenHash;
    if (adminHash !== null && secretMatches(token, adminHash)) {
      return { ok: true, verified: { principal: { role: 'admin', prefix: null, name: 'admin' }, current: () => credentials.adminTokenHash === adminHash } };
    }
    if (token.startsWith('qrt1_')) {
      return { ok: false, message: 'that is a join token: it admits a node (`quorate cluster join`, `quorate agent`) and is not an API token; create one with `quorate acl token create`' };
    }
    const parsed = parseAclToken(token);
    const record = parsed === null ? undefined : credentials.aclToken(parsed.id);
    if (parsed === null || record === undefined || !secretMatches(parsed.secret, record.secretHash)) return { ok: false, message: invalid };
    if (record.revokedAtMs !== null) return { ok: false, message: `API token ${record.id} was revoked at ${iso(record.revokedAtMs)}` };
    const principal: Principal = { role: record.role, prefix: record.prefix, name: record.id };
    return { ok: true, verified: { principal, current: () => credentials.aclToken(record.id) === record } };
  }

  async createToken(role: AclRole, prefix: string | null): Promise<{ readonly token: string; readonly view: AclTokenView }> {
    const token = newAclToken();
    const record: AclTokenRecord = { id: token.id, role, prefix, secretHash: secretHash(token.secret), createdAtMs: this.ctx.now(), revokedAtMs: null };
    await this.ctx.propose(encodeCredentialCommand({ op: 'aclTokenCreate', token: record }));
    return { token: formatAclToken(token), view: view(record) };
  }

  list(): AclTokenView[] {
    return this.ctx.state.credentials.aclTokenList().map(view);
  }

  async revoke(id: string): Promise<AclTokenView> {
    if (this.ctx.state.credentials.aclToken(id) === undefined) throw new QuorateError('not_found', `there is no API token ${id} (see \`quorate acl token list\`)`);
    await this.ctx.propose(encodeCredentialCommand({ op: 'aclTokenRevoke', id, atMs: this.ctx.now() }));
    const record = this.ctx.state.credentials.aclToken(id);
    if (record === undefined) throw new QuorateError('not_found', `API token ${id} is gone`);
    return view(record);
  }
}

function view(record: AclTokenRecord): AclTokenView {
  return {
    id: record.id,
    role: record.role,
    prefix: record.prefix,
    createdAt: iso(record.createdAtMs),
    state: record.revokedAtMs === null ? 'valid' : 'revoked',
    revokedAt: record.revokedAtMs === null ? null : iso(record.revokedAtMs),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
