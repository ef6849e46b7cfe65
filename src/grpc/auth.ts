/**
 * Authentication for the etcd API, mapped onto Quorate's tokens. etcd clients log in with
 * Auth.Authenticate{name, password} and send the token they get back in the `token` metadata
 * of every later call. Quorate's API tokens (and the admin token) are already bearer secrets,
 * so the password is the token and Authenticate hands the same string back: `etcdctl --user
 * quorate:<token>` works, with any user name. Every call then checks that token through the
 * node's AccessControl, with the HTTP API's roles and key prefixes, and failures count against
 * the caller's address exactly as on the HTTP API (failed-attempts.ts).
 */
import type { Metadata } from '@grpc/grpc-js';
import { roleAllows, type Permission } from '../cluster/acl-token.js';
import { FailedAttempts } from '../api/failed-attempts.js';
import { keysRefusal } from '../api/key-access.js';
import type { KvService, Principal } from '../server/index.js';
import { etcdErrors } from './errors.js';

/** What a handler knows of its caller: the call's metadata and peer address. */
export interface Caller {
  readonly metadata: Metadata;
  getPeer(): string;
}

/** "127.0.0.1:5555" or "[::1]:5555" (grpc-js's peer format) without the port. */
function hostOf(peer: string): string {
  const host = peer.replace(/:\d+$/, '');
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export class GrpcAuth {
  private readonly failures = new FailedAttempts();

  constructor(private readonly service: () => KvService) {}

  /** Auth.Authenticate: the password must be a valid token, which becomes the session token. */
  login(caller: Caller, password: string): string {
    this.checkedToken(caller, password, etcdErrors.authFailed);
    return password;
  }

  /** The caller of a call that needs `permission`; throws etcd's auth errors. */
  check(caller: Caller, permission: Permission): Principal {
    const token = caller.metadata.get('token')[0];
    if (typeof token !== 'string' || token === '') throw etcdErrors.userEmpty();
    const principal = this.checkedToken(caller, token, etcdErrors.invalidAuthToken);
    if (!roleAllows(principal.role, permission)) throw etcdErrors.permissionDenied();
    return principal;
  }

  /** Throws permission denied unless the principal's key prefix covers [key, rangeEnd). */
  allowKeys(principal: Principal, key: Uint8Array, rangeEnd?: Uint8Array): void {
    if (keysRefusal(principal, key, rangeEnd) !== null) throw etcdErrors.permissionDenied();
  }

  private checkedToken(caller: Caller, token: string, refusal: () => Error): Principal {
    const address = hostOf(caller.getPeer());
    if (this.failures.blockedFor(address) !== null) throw etcdErrors.tooManyRequests();
    const result = this.service().authenticate(token);
    if (!result.ok && !result.caughtUp) throw etcdErrors.notReady();
    if (!result.ok) {
      this.failures.fail(address);
      throw refusal();
    }
    return result.principal;
  }
}
