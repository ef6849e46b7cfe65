/**
 * The one place where error codes become HTTP status codes (DESIGN.md section 2, rule 4).
 * Handlers throw: a KvFailure from the state machine becomes an ApiError with the same code,
 * the service's QuorateErrors pass through with theirs, and the API adds its own codes for
 * requests it cannot even parse. Anything else is a bug: it is logged, and the client gets
 * a generic 500 without internals.
 */
import type { ServiceErrorCode } from '../server/index.js';
import type { KvErrorCode, KvFailure } from '../state/index.js';
import { QuorateError } from '../util/errors.js';

/** Codes the API itself produces. */
export type ApiOwnErrorCode =
  | 'bad_request'
  | 'not_found'
  | 'method_not_allowed'
  | 'body_too_large'
  | 'compare_failed'
  | 'no_leader'
  | 'not_member'
  | 'not_ready'
  | 'unauthorized'
  | 'forbidden'
  | 'too_many_attempts'
  | 'too_many_watches'
  | 'internal';

/** Codes of admission (server/admission.ts), which the API passes through. */
type AdmissionErrorCode = 'bad_token' | 'token_expired' | 'token_revoked' | 'wrong_role' | 'address_in_use' | 'member_exists' | 'is_leader' | 'last_voter';

/** Attaching an arbiter (server/arbiter-enrollment.ts): the arbiter is another process this node talks to. */
type ArbiterErrorCode = 'fingerprint_mismatch' | 'arbiter_refused' | 'unreachable' | 'bad_response';

/** A job file or spec that does not validate (workload/job-spec.ts, the service's check). */
type WorkloadErrorCode = 'invalid_job';

export type ApiErrorCode = ApiOwnErrorCode | KvErrorCode | ServiceErrorCode | AdmissionErrorCode | ArbiterErrorCode | WorkloadErrorCode;

// A Record over the union, so the compiler insists that every code has a status.
const statusByCode: Readonly<Record<ApiErrorCode, number>> = {
  bad_request: 400,
  not_found: 404,
  method_not_allowed: 405,
  body_too_large: 413,
  compare_failed: 412,
  no_leader: 503,
  not_member: 503,
  not_ready: 503,
  unauthorized: 401,
  forbidden: 403,
  too_many_attempts: 429,
  too_many_watches: 429,
  internal: 500,
  // Admission: a token that does not admit this node, or a node that clashes with a member.
  bad_token: 401,
  token_expired: 401,
  token_revoked: 401,
  wrong_role: 403,
  address_in_use: 409,
  member_exists: 409,
  is_leader: 409,
  last_voter: 409,
  invalid_job: 400,
  fingerprint_mismatch: 409,
  arbiter_refused: 502,
  unreachable: 502,
  bad_response: 502,
  // The state machine's failures: the request is wrong, names something missing, or hits a limit.
  bad_command: 400,
  empty_key: 400,
  value_provided: 400,
  lease_provided: 400,
  invalid_lease_id: 400,
  invalid_ttl: 400,
  invalid_argument: 400,
  too_many_results: 400,
  too_many_ops: 400,
  duplicate_key: 400,
  future_revision: 400,
  key_too_large: 413,
  value_too_large: 413,
  compacted: 410,
  key_not_found: 404,
  lease_not_found: 404,
  lease_exists: 409,
  too_many_leases: 429,
  // The cluster cannot answer now; the client may retry (with care after outcome_unknown).
  no_quorum: 503,
  outcome_unknown: 503,
  unavailable: 503,
};

function isApiErrorCode(code: string): code is ApiErrorCode {
  return Object.hasOwn(statusByCode, code);
}

/** An expected failure of one request; `details` are extra fields of the JSON body. */
export class ApiError extends QuorateError<ApiErrorCode> {
  constructor(
    code: ApiErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(code, message);
  }
}

export function badRequest(message: string): ApiError {
  return new ApiError('bad_request', message);
}

export function fromKvFailure(failure: KvFailure): ApiError {
  return new ApiError(failure.code, failure.message);
}

/** Throws the failure as an ApiError, so handlers read as the success path. */
export function unwrap<T extends object>(result: T | KvFailure): T {
  if (isKvFailure(result)) throw fromKvFailure(result);
  return result;
}

function isKvFailure(result: object): result is KvFailure {
  return (result as { readonly ok?: unknown }).ok === false;
}

export interface ErrorReply {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

/** The HTTP reply for anything a handler threw. `log` receives what the client must not see. */
export function errorReply(error: unknown, log: (message: string) => void): ErrorReply {
  const code: string | null = error instanceof QuorateError ? (error as QuorateError).code : null;
  if (error instanceof QuorateError && code !== null && isApiErrorCode(code)) {
    const details = error instanceof ApiError ? error.details : {};
    const message = code === 'outcome_unknown' ? `the write may or may not have happened; read the key before retrying (${error.message})` : error.message;
    return { status: statusByCode[code], body: { ...details, code, message } };
  }
  log(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return { status: 500, body: { code: 'internal', message: 'internal server error (details are in the server log)' } };
}
