/**
 * The one place where Quorate's failures become gRPC statuses (DESIGN.md section 2, rule 4).
 * etcd clients recognise server errors by their exact message (clientv3's rpctypes maps the
 * text back to a typed error, and retries or re-authenticates by it), so the messages below
 * are etcd's, word for word, with etcd's status codes; failures etcd has no word for keep
 * Quorate's own message under the nearest code.
 */
import { status } from '@grpc/grpc-js';
import type { KvErrorCode, KvFailure } from '../state/index.js';
import { QuorateError } from '../util/errors.js';

/** What a handler rejects with; grpc-js sends `code` and `details` as the call's status. */
export class GrpcError extends Error {
  constructor(
    readonly code: status,
    readonly details: string,
  ) {
    super(details);
  }
}

const etcd = (code: status, details: string): GrpcError => new GrpcError(code, details);

/** etcd's server errors that Quorate produces (etcd's api/v3rpc/rpctypes). */
export const etcdErrors = {
  emptyKey: () => etcd(status.INVALID_ARGUMENT, 'etcdserver: key is not provided'),
  keyNotFound: () => etcd(status.INVALID_ARGUMENT, 'etcdserver: key not found'),
  valueProvided: () => etcd(status.INVALID_ARGUMENT, 'etcdserver: value is provided'),
  leaseProvided: () => etcd(status.INVALID_ARGUMENT, 'etcdserver: lease is provided'),
  tooManyOps: () => etcd(status.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'),
  duplicateKey: () => etcd(status.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'),
  compacted: () => etcd(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
  futureRevision: () => etcd(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'),
  leaseNotFound: () => etcd(status.NOT_FOUND, 'etcdserver: requested lease not found'),
  leaseExists: () => etcd(status.FAILED_PRECONDITION, 'etcdserver: lease already exists'),
  leaseTtlTooLarge: () => etcd(status.OUT_OF_RANGE, 'etcdserver: too large lease TTL'),
  requestTooLarge: () => etcd(status.INVALID_ARGUMENT, 'etcdserver: request is too large'),
  tooManyRequests: () => etcd(status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'),
  noLeader: () => etcd(status.UNAVAILABLE, 'etcdserver: no leader'),
  /** Quorate's own: a joining node that has not received the cluster state cannot check tokens. */
  notReady: () => etcd(status.UNAVAILABLE, 'quorate: this node has not received the cluster state yet (it is joining); try again or use another endpoint'),
  timeout: () => etcd(status.UNAVAILABLE, 'etcdserver: request timed out'),
  timeoutLeaderFail: () => etcd(status.UNAVAILABLE, 'etcdserver: request timed out, possibly due to previous leader failure'),
  stopped: () => etcd(status.UNAVAILABLE, 'etcdserver: server stopped'),
  userEmpty: () => etcd(status.INVALID_ARGUMENT, 'etcdserver: user name is empty'),
  authFailed: () => etcd(status.INVALID_ARGUMENT, 'etcdserver: authentication failed, invalid user ID or password'),
  invalidAuthToken: () => etcd(status.UNAUTHENTICATED, 'etcdserver: invalid auth token'),
  permissionDenied: () => etcd(status.PERMISSION_DENIED, 'etcdserver: permission denied'),
} as const;

// A Record over the union, so the compiler insists that every state machine failure maps.
const byKvCode: Readonly<Record<KvErrorCode, (failure: KvFailure) => GrpcError>> = {
  compacted: etcdErrors.compacted,
  future_revision: etcdErrors.futureRevision,
  empty_key: etcdErrors.emptyKey,
  key_not_found: etcdErrors.keyNotFound,
  value_provided: etcdErrors.valueProvided,
  lease_provided: etcdErrors.leaseProvided,
  lease_not_found: etcdErrors.leaseNotFound,
  lease_exists: etcdErrors.leaseExists,
  too_many_ops: etcdErrors.tooManyOps,
  duplicate_key: etcdErrors.duplicateKey,
  key_too_large: etcdErrors.requestTooLarge,
  value_too_large: etcdErrors.requestTooLarge,
  invalid_ttl: etcdErrors.leaseTtlTooLarge,
  too_many_leases: (failure) => etcd(status.RESOURCE_EXHAUSTED, failure.message),
  too_many_results: (failure) => etcd(status.INVALID_ARGUMENT, failure.message),
  invalid_lease_id: (failure) => etcd(status.INVALID_ARGUMENT, failure.message),
  invalid_argument: (failure) => etcd(status.INVALID_ARGUMENT, failure.message),
  bad_command: (failure) => etcd(status.INVALID_ARGUMENT, failure.message),
  not_found: (failure) => etcd(status.NOT_FOUND, failure.message),
};

export function fromKvFailure(failure: KvFailure): GrpcError {
  return byKvCode[failure.code](failure);
}

/** The result, or the failure thrown as its gRPC status, so handlers read as the success path. */
export function unwrap<T extends object>(result: T | KvFailure): T {
  if ((result as { readonly ok?: unknown }).ok === false) throw fromKvFailure(result as KvFailure);
  return result as T;
}

/**
 * Any error a handler threw, as a status. `leaderKnown` tells a cluster without a leader from
 * one that has a leader but could not commit in time. Unexpected errors are bugs: `log` gets
 * them, the client a generic INTERNAL without internals.
 */
export function toGrpcError(error: unknown, leaderKnown: boolean, log: (message: string) => void): GrpcError {
  if (error instanceof GrpcError) return error;
  if (error instanceof QuorateError) {
    switch ((error as QuorateError).code) {
      case 'no_quorum':
        return leaderKnown ? etcdErrors.timeout() : etcdErrors.noLeader();
      case 'outcome_unknown':
        return etcdErrors.timeoutLeaderFail();
      case 'unavailable':
        return etcdErrors.stopped();
    }
  }
  log(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return new GrpcError(status.INTERNAL, 'internal server error (details are in the server log)');
}
