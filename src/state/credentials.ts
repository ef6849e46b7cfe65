/**
 * The replicated credentials: the admin token's hash (set when the cluster is created), the
 * join tokens, each stored as its id, the SHA-256 of its secret, the role it admits and its
 * validity, the API (ACL) tokens with their role and key prefix, and the trusted CAs once a CA
 * rotation ran. Secrets never enter the log in the clear. Times come inside the commands (the proposing leader's
 * clock), so applying them is deterministic; expiry is checked by the leader when a token is
 * used, not here. Tokens that ended more than a week before a new one is created are dropped
 * then, so the list does not grow without bound.
 */
import { kvFailure, type KvFailure } from './types.js';

export type TokenRole = 'server' | 'worker';

export interface JoinTokenRecord {
  readonly id: string;
  readonly role: TokenRole;
  readonly secretHash: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  readonly revokedAtMs: number | null;
}

/** What an API token may do, each role including the ones before it (cluster/acl-token.ts). */
export const aclRoles = ['read', 'write', 'operator', 'admin'] as const;
export type AclRole = (typeof aclRoles)[number];

export interface AclTokenRecord {
  readonly id: string;
  readonly role: AclRole;
  /** The KV keys it may touch all start with this; null: any key. */
  readonly prefix: string | null;
  readonly secretHash: string;
  readonly createdAtMs: number;
  readonly revokedAtMs: number | null;
}

/**
 * The CAs the cluster trusts, set by a CA rotation (server/ca-rotation.ts); null until the first
 * one (every node then trusts the CA in its own files). A rotation moves through three steps, each
 * begun only when every node has done the one before: `trust` (nodes trust the old and the new
 * CA), `switch` (nodes get certificates from the new CA), `done` (the old CA is no longer trusted).
 */
export interface ClusterTrust {
  /** PEM certificates of the trusted CAs, oldest first; the last one signs new certificates. */
  readonly cas: readonly string[];
  /** The signing CA's private key, sealed for the servers (cluster/seal.ts): never in the clear. */
  readonly sealedKey: string;
  readonly step: 'trust' | 'switch' | 'done';
  readonly atMs: number;
}

const trustCasMax = 4;
const pemBytesMax = 8 * 1024;

/** Bounds the replicated list (revoked tokens are dropped a week after their revocation, as join tokens are). */
const aclTokensMax = 10_000;

export type CredentialCommand =
  | { readonly op: 'adminTokenSet'; readonly secretHash: string }
  | { readonly op: 'tokenCreate'; readonly token: JoinTokenRecord }
  | { readonly op: 'tokenRevoke'; readonly id: string; readonly atMs: number }
  | { readonly op: 'aclTokenCreate'; readonly token: AclTokenRecord }
  | { readonly op: 'aclTokenRevoke'; readonly id: string; readonly atMs: number }
  | { readonly op: 'trustSet'; readonly trust: ClusterTrust };

export interface CredentialResponse {
  readonly ok: true;
  readonly kind: CredentialCommand['op'];
}

export interface CredentialState {
  readonly adminTokenHash: string | null;
  readonly tokens: readonly JoinTokenRecord[];
  /** Absent in snapshots from before API tokens. */
  readonly aclTokens?: readonly AclTokenRecord[];
  /** Absent in snapshots from before CA rotation. */
  readonly trust?: ClusterTrust | null;
}

const endedRetentionMs = 7 * 24 * 60 * 60 * 1000;
const hashPattern = /^[0-9a-f]{64}$/;
const idPattern = /^[0-9a-f]{16}$/;

export class CredentialRegistry {
  private adminHash: string | null = null;
  private readonly tokens = new Map<string, JoinTokenRecord>();
  private readonly aclTokens = new Map<string, AclTokenRecord>();
  private trustState: ClusterTrust | null = null;

  /** The trusted CAs after a CA rotation; null before the first. A new object at every change. */
  get trust(): ClusterTrust | null {
    return this.trustState;
  }

  get adminTokenHash(): string | null {
    return this.adminHash;
  }

  token(id: string): JoinTokenRecord | undefined {
    return this.tokens.get(id);
  }

  /** In creation order (then id), as snapshots and `join-token --list` show them. */
  list(): JoinTokenRecord[] {
    return [...this.tokens.values()].sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1));
  }

  aclToken(id: string): AclTokenRecord | undefined {
    return this.aclTokens.get(id);
  }

  /** In creation order (then id). */
  aclTokenList(): AclTokenRecord[] {
    return [...this.aclTokens.values()].sort((a, b) => a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : 1));
  }

  apply(command: CredentialCommand): CredentialResponse | KvFailure {
    switch (command.op) {
      case 'adminTokenSet':
        if (!hashPattern.test(command.secretHash)) return kvFailure('invalid_argument', 'adminTokenSet needs a SHA-256 hex digest');
        this.adminHash = command.secretHash;
        break;
      case 'tokenCreate': {
        const problem = tokenProblem(command.token);
        if (problem !== null) return kvFailure('invalid_argument', problem);
        if (this.tokens.has(command.token.id)) return kvFailure('invalid_argument', `join token ${command.token.id} exists`);
        for (const [id, token] of this.tokens) {
          if (Math.min(token.expiresAtMs, token.revokedAtMs ?? Infinity) < command.token.createdAtMs - endedRetentionMs) this.tokens.delete(id);
        }
        this.tokens.set(command.token.id, { ...command.token, revokedAtMs: null });
        break;
      }
      case 'tokenRevoke': {
        const token = this.tokens.get(command.id);
        if (token === undefined) return kvFailure('key_not_found', `no join token ${command.id}`);
        if (token.revokedAtMs === null) this.tokens.set(command.id, { ...token, revokedAtMs: command.atMs });
        break;
      }
      case 'aclTokenCreate': {
        const problem = aclTokenProblem(command.token);
        if (problem !== null) return kvFailure('invalid_argument', problem);
        if (this.aclTokens.has(command.token.id)) return kvFailure('invalid_argument', `API token ${command.token.id} exists`);
        for (const [id, token] of this.aclTokens) {
          if (token.revokedAtMs !== null && token.revokedAtMs < command.token.createdAtMs - endedRetentionMs) this.aclTokens.delete(id);
        }
        if (this.aclTokens.size >= aclTokensMax) return kvFailure('invalid_argument', `a cluster holds at most ${aclTokensMax} API tokens; revoke unused ones`);
        this.aclTokens.set(command.token.id, { ...command.token, revokedAtMs: null });
        break;
      }
      case 'aclTokenRevoke': {
        const token = this.aclTokens.get(command.id);
        if (token === undefined) return kvFailure('key_not_found', `no API token ${command.id}`);
        if (token.revokedAtMs === null) this.aclTokens.set(command.id, { ...token, revokedAtMs: command.atMs });
        break;
      }
      case 'trustSet': {
        const problem = trustProblem(command.trust, this.trustState);
        if (problem !== null) return kvFailure('invalid_argument', problem);
        this.trustState = { cas: [...command.trust.cas], sealedKey: command.trust.sealedKey, step: command.trust.step, atMs: command.trust.atMs };
        break;
      }
    }
    return { ok: true, kind: command.op };
  }

  state(): CredentialState {
    return { adminTokenHash: this.adminHash, tokens: this.list(), aclTokens: this.aclTokenList(), trust: this.trustState };
  }

  replace(state: CredentialState): void {
    this.adminHash = state.adminTokenHash;
    this.tokens.clear();
    for (const token of state.tokens) this.tokens.set(token.id, token);
    this.aclTokens.clear();
    for (const token of state.aclTokens ?? []) this.aclTokens.set(token.id, token);
    this.trustState = state.trust ?? null;
  }
}

function tokenProblem(token: JoinTokenRecord): string | null {
  if (!idPattern.test(token.id)) return 'a join token id is 16 hex digits';
  // The role arrives from JSON: the type says what it should be, not what it is.
  if (!(['server', 'worker'] as readonly string[]).includes(token.role)) return 'a join token role is server or worker';
  if (!hashPattern.test(token.secretHash)) return 'a join token needs a SHA-256 hex digest of its secret';
  if (!Number.isSafeInteger(token.createdAtMs) || !Number.isSafeInteger(token.expiresAtMs) || token.expiresAtMs <= token.createdAtMs) return 'a join token needs createdAtMs < expiresAtMs';
  return null;
}

function aclTokenProblem(token: AclTokenRecord): string | null {
  if (!idPattern.test(token.id)) return 'an API token id is 16 hex digits';
  if (!(aclRoles as readonly string[]).includes(token.role)) return `an API token role is one of ${aclRoles.join(', ')}`;
  if (token.prefix !== null && (typeof token.prefix !== 'string' || token.prefix === '' || token.prefix.length > 1024)) return 'an API token prefix is 1-1024 characters (or none)';
  if (!hashPattern.test(token.secretHash)) return 'an API token needs a SHA-256 hex digest of its secret';
  if (!Number.isSafeInteger(token.createdAtMs)) return 'an API token needs createdAtMs';
  return null;
}

/**
 * Why a trust change may not be applied now: each step follows the one before with the same CAs
 * (`done` keeps the signing CA only), and a new rotation starts only after the last one ended,
 * so two rotations begun at once cannot interleave.
 */
function trustProblem(next: ClusterTrust, current: ClusterTrust | null): string | null {
  if (!Array.isArray(next.cas) || next.cas.length === 0 || next.cas.length > trustCasMax) return `a trust change lists 1-${trustCasMax} CAs`;
  if (!next.cas.every((pem) => typeof pem === 'string' && pem.startsWith('-----BEGIN CERTIFICATE-----') && pem.length <= pemBytesMax)) return 'a trust change lists PEM certificates';
  if (typeof next.sealedKey !== 'string' || next.sealedKey.length === 0 || next.sealedKey.length > pemBytesMax) return 'a trust change needs the sealed key';
  if (!Number.isSafeInteger(next.atMs)) return 'a trust change needs atMs';
  const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((pem, i) => pem === b[i]);
  switch (next.step) {
    case 'trust':
      return current === null || current.step === 'done' ? null : `a CA rotation is under way (step ${current.step}); let it finish first`;
    case 'switch':
      return current?.step === 'trust' && same(current.cas, next.cas) && current.sealedKey === next.sealedKey ? null : 'a switch follows the trust step of the same rotation';
    case 'done':
      return current?.step === 'switch' && same(next.cas, current.cas.slice(-1)) && current.sealedKey === next.sealedKey ? null : 'a rotation ends after its switch step, keeping only the signing CA';
    default:
      return 'a trust step is trust, switch or done';
  }
}

/** A decoded JSON value that has the shape of a CredentialCommand (fields checked by apply). */
export function isCredentialCommand(value: unknown): value is CredentialCommand {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  switch (record.op) {
    case 'adminTokenSet':
      return typeof record.secretHash === 'string';
    case 'tokenCreate': {
      const token = record.token as Record<string, unknown> | null | undefined;
      return (
        typeof token === 'object' &&
        token !== null &&
        typeof token.id === 'string' &&
        typeof token.role === 'string' &&
        typeof token.secretHash === 'string' &&
        typeof token.createdAtMs === 'number' &&
        typeof token.expiresAtMs === 'number'
      );
    }
    case 'tokenRevoke':
    case 'aclTokenRevoke':
      return typeof record.id === 'string' && typeof record.atMs === 'number';
    case 'aclTokenCreate': {
      const token = record.token as Record<string, unknown> | null | undefined;
      return typeof token === 'object' && token !== null && typeof token.id === 'string' && typeof token.role === 'string' && typeof token.secretHash === 'string' && typeof token.createdAtMs === 'number';
    }
    case 'trustSet': {
      const trust = record.trust as Record<string, unknown> | null | undefined;
      return typeof trust === 'object' && trust !== null && Array.isArray(trust.cas) && typeof trust.sealedKey === 'string' && typeof trust.step === 'string' && typeof trust.atMs === 'number';
    }
    default:
      return false;
  }
}
