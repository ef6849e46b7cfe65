/**
 * Every request's credentials, checked before its handler runs (issue 9): `Authorization:
 * Bearer <token>` with the admin token or an API token whose role grants what the route needs.
 * No token: 401; a token that is not valid, or a role too small: 403; a node that has not yet
 * received the cluster state (joining) cannot tell, and answers 503 not_ready; after too many failed
 * attempts from one address (failed-attempts.ts), that address gets 429 until the window has
 * passed, so tokens cannot be guessed at the speed of the network. Every refusal is counted by
 * its code (GET /v1/status shows them as `api.authFailures`), so an operator sees guessing, or a
 * client still using a revoked token.
 */
import type { IncomingMessage } from 'node:http';
import { roleAllows } from '../cluster/acl-token.js';
import type { KvService, Principal } from '../server/index.js';
import { ApiError } from './errors.js';
import { FailedAttempts } from './failed-attempts.js';
import type { Access } from './routes.js';

/** The codes check() refuses with: 401, 403 and 429. */
export type AuthRefusalCode = 'unauthorized' | 'forbidden' | 'too_many_attempts';

export class Authenticator {
  private readonly failures = new FailedAttempts();
  private readonly refusals: Record<AuthRefusalCode, number> = { unauthorized: 0, forbidden: 0, too_many_attempts: 0 };

  constructor(private readonly service: KvService) {}

  /** Requests refused since start, by code. */
  refusalCounts(): Readonly<Record<AuthRefusalCode, number>> {
    return { ...this.refusals };
  }

  /** The caller, or null on a public route; throws 401, 403 or 429. */
  check(request: IncomingMessage, access: Access): Principal | null {
    if (access === 'public') return null;
    const address = request.socket.remoteAddress ?? '';
    const blockedSeconds = this.failures.blockedFor(address);
    if (blockedSeconds !== null) throw this.refuse('too_many_attempts', `too many failed attempts from ${address}; try again in ${blockedSeconds} s`);
    const header = request.headers.authorization;
    if (header === undefined) {
      throw this.refuse('unauthorized', 'this request needs a token (Authorization: Bearer <token>): the admin token (on a server the CLI reads it from admin.token in the data directory) or an API token from `quorate acl token create`');
    }
    const token = /^Bearer (\S+)$/.exec(header)?.[1];
    const result = token === undefined ? { ok: false as const, caughtUp: true, message: 'the Authorization header must be "Bearer <token>"' } : this.service.authenticate(token);
    // Not the caller's failure: counting it would lock out every client of a joining node.
    if (!result.ok && !result.caughtUp) throw new ApiError('not_ready', result.message);
    if (!result.ok) {
      this.failures.fail(address);
      throw this.refuse('forbidden', result.message);
    }
    if (!roleAllows(result.principal.role, access)) {
      throw this.refuse('forbidden', `this token has the role ${result.principal.role}, which may not ${describe(access)}; use a token with a larger role`);
    }
    return result.principal;
  }

  private refuse(code: AuthRefusalCode, message: string): ApiError {
    this.refusals[code]++;
    return new ApiError(code, message);
  }
}

function describe(access: Exclude<Access, 'public'>): string {
  switch (access) {
    case 'read':
      return 'read';
    case 'write':
      return 'write keys or leases (role write)';
    case 'operate':
      return 'change jobs, nodes or fencing (role operator)';
    case 'admin':
      return 'manage tokens, members or backups (role admin)';
  }
}
