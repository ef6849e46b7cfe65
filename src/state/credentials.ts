/**
 * The replicated credentials: the admin token's hash (set when the cluster is created) and the
 * join tokens, each stored as its id, the SHA-256 of its secret, the role it admits and its
 * validity. Secrets never enter the log. Times come inside the commands (the proposing leader's
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

export type CredentialCommand =
  | { readonly op: 'adminTokenSet'; readonly secretHash: string }
  | { readonly op: 'tokenCreate'; readonly token: JoinTokenRecord }
  | { readonly op: 'tokenRevoke'; readonly id: string; readonly atMs: number };

export interface CredentialResponse {
  readonly ok: true;
  readonly kind: CredentialCommand['op'];
}

export interface CredentialState {
  readonly adminTokenHash: string | null;
  readonly tokens: readonly JoinTokenRecord[];
}

const endedRetentionMs = 7 * 24 * 60 * 60 * 1000;
const hashPattern = /^[0-9a-f]{64}$/;
const idPattern = /^[0-9a-f]{16}$/;

export class CredentialRegistry {
  private adminHash: string | null = null;
  private readonly tokens = new Map<string, JoinTokenRecord>();

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
    }
    return { ok: true, kind: command.op };
  }

  state(): CredentialState {
    return { adminTokenHash: this.adminHash, tokens: this.list() };
  }

  replace(state: CredentialState): void {
    this.adminHash = state.adminTokenHash;
    this.tokens.clear();
    for (const token of state.tokens) this.tokens.set(token.id, token);
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
      return typeof record.id === 'string' && typeof record.atMs === 'number';
    default:
      return false;
  }
}
