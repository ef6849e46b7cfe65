/**
 * The public vocabulary of the KV state machine, named after etcd v3 (mvccpb.KeyValue,
 * etcdserverpb.PutRequest, RangeRequest, Compare ...) so the etcd-compatible API can be a thin
 * mapping. Everything is plain data: results are compared across replicas and sent to clients.
 */

/** Limits on everything a client controls (DESIGN.md section 2, rule 5). */
export const keyBytesMax = 4096;
/** etcd's default request limit is 1.5 MiB; one value may use most of it. */
export const valueBytesMax = 1024 * 1024;
/** A range must not return more key-values than this; larger reads must page with `limit`. */
export const rangeResultsMax = 10_000;
/** etcd's default --max-txn-ops. */
export const txnOpsMax = 128;
export const txnComparesMax = 128;
/** How deep transactions may nest (etcd's request_txn ops); bounds the recursion of apply. */
export const txnDepthMax = 8;
export const leasesMax = 100_000;
/** etcd's MaxLeaseTTL. */
export const leaseTtlSecondsMax = 9_000_000_000;
/** An encoded command larger than this is rejected before decoding. */
export const commandBytesMax = 4 * 1024 * 1024;

export interface KeyValue {
  readonly key: Uint8Array;
  /** Empty when the range asked for keysOnly, and in a delete event's kv. */
  readonly value: Uint8Array;
  readonly createRevision: number;
  readonly modRevision: number;
  /** 1 on create, +1 per put, gone on delete (a recreated key starts again at 1). */
  readonly version: number;
  /** The attached lease id, 0 for none. */
  readonly lease: number;
}

/**
 * One change, as a watcher sees it. For a delete, `kv` carries the key and the deleting
 * revision as modRevision, everything else zero (as in etcd). `prevKv` is the key-value before
 * the change, absent if the key did not exist.
 */
export interface KvEvent {
  readonly type: 'put' | 'delete';
  readonly kv: KeyValue;
  readonly prevKv?: KeyValue;
}

export type KvErrorCode =
  | 'bad_command'
  | 'compacted'
  | 'future_revision'
  | 'empty_key'
  | 'key_too_large'
  | 'value_too_large'
  | 'key_not_found'
  | 'not_found'
  | 'value_provided'
  | 'lease_provided'
  | 'lease_not_found'
  | 'lease_exists'
  | 'invalid_lease_id'
  | 'invalid_ttl'
  | 'too_many_leases'
  | 'invalid_argument'
  | 'too_many_results'
  | 'too_many_ops'
  | 'duplicate_key';

/** An expected failure, returned (never thrown) so that apply stays total and deterministic. */
export interface KvFailure {
  readonly ok: false;
  readonly code: KvErrorCode;
  readonly message: string;
}

// Request types allow `undefined` for absent options so that decoders and callers need not
// build objects conditionally under exactOptionalPropertyTypes.
export interface PutRequest {
  readonly op: 'put';
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly lease?: number | undefined;
  readonly prevKv?: boolean | undefined;
  /** Keep the current value; the request's value must be empty and the key must exist. */
  readonly ignoreValue?: boolean | undefined;
  /** Keep the current lease; the request's lease must be 0 and the key must exist. */
  readonly ignoreLease?: boolean | undefined;
}

export interface DeleteRangeRequest {
  readonly op: 'deleteRange';
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array | undefined;
  readonly prevKv?: boolean | undefined;
}

export interface RangeOptions {
  /** Read at this past revision; 0 or absent reads the current one. */
  readonly revision?: number | undefined;
  /** At most this many kvs; 0 or absent means no limit (but see rangeResultsMax). */
  readonly limit?: number | undefined;
  readonly keysOnly?: boolean | undefined;
  readonly countOnly?: boolean | undefined;
}

export interface RangeRequest extends RangeOptions {
  readonly op: 'range';
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array | undefined;
}

export type CompareResult = 'equal' | 'notEqual' | 'less' | 'greater';

/** A transaction guard. With a rangeEnd, every key in the range must satisfy it. */
export type Compare =
  | {
      readonly target: 'value';
      readonly key: Uint8Array;
      readonly rangeEnd?: Uint8Array | undefined;
      readonly result: CompareResult;
      readonly value: Uint8Array;
    }
  | {
      readonly target: 'version' | 'createRevision' | 'modRevision' | 'lease';
      readonly key: Uint8Array;
      readonly rangeEnd?: Uint8Array | undefined;
      readonly result: CompareResult;
      readonly value: number;
    };

/** A transaction's operation; a nested txn evaluates its compares against the state before the outer txn (as etcd does). */
export type TxnOp = PutRequest | DeleteRangeRequest | RangeRequest | TxnRequest;

export interface TxnRequest {
  readonly op: 'txn';
  readonly compares: readonly Compare[];
  readonly success: readonly TxnOp[];
  readonly failure: readonly TxnOp[];
}

export interface LeaseGrantRequest {
  readonly op: 'leaseGrant';
  /** Chosen by the proposer (the leader), so every replica agrees on it. */
  readonly id: number;
  readonly ttlSeconds: number;
}

export interface LeaseRevokeRequest {
  readonly op: 'leaseRevoke';
  readonly id: number;
}

export interface CompactRequest {
  readonly op: 'compact';
  readonly revision: number;
}

/** What travels through the log. Ranges are reads and are served directly, not logged. */
export type KvCommand = PutRequest | DeleteRangeRequest | TxnRequest | LeaseGrantRequest | LeaseRevokeRequest | CompactRequest;

export interface PutResponse {
  readonly ok: true;
  readonly kind: 'put';
  readonly revision: number;
  readonly prevKv?: KeyValue;
}

export interface DeleteRangeResponse {
  readonly ok: true;
  readonly kind: 'deleteRange';
  readonly revision: number;
  readonly deleted: number;
  readonly prevKvs?: readonly KeyValue[];
}

export interface RangeResponse {
  readonly ok: true;
  readonly kind: 'range';
  /** The store's current revision (not the revision read at), as in etcd's header. */
  readonly revision: number;
  readonly kvs: readonly KeyValue[];
  /** How many keys the range holds, ignoring limit. */
  readonly count: number;
  /** Whether limit cut the result short. */
  readonly more: boolean;
}

export type TxnOpResponse = PutResponse | DeleteRangeResponse | RangeResponse | TxnResponse;

export interface TxnResponse {
  readonly ok: true;
  readonly kind: 'txn';
  readonly revision: number;
  readonly succeeded: boolean;
  readonly responses: readonly TxnOpResponse[];
}

export interface LeaseGrantResponse {
  readonly ok: true;
  readonly kind: 'leaseGrant';
  readonly revision: number;
  readonly id: number;
  readonly ttlSeconds: number;
}

export interface LeaseRevokeResponse {
  readonly ok: true;
  readonly kind: 'leaseRevoke';
  readonly revision: number;
  /** How many attached keys the revoke deleted. */
  readonly deleted: number;
}

export interface CompactResponse {
  readonly ok: true;
  readonly kind: 'compact';
  readonly revision: number;
}

/** A leader's no-op entry or a membership change: nothing happens to the KV. */
export interface NoopResponse {
  readonly ok: true;
  readonly kind: 'noop';
  readonly revision: number;
}

export type KvApplyResult =
  | PutResponse
  | DeleteRangeResponse
  | TxnResponse
  | LeaseGrantResponse
  | LeaseRevokeResponse
  | CompactResponse
  | NoopResponse
  | KvFailure;

/** What the replicated state knows about a lease; the remaining TTL is leader-local. */
export interface LeaseInfo {
  readonly id: number;
  readonly ttlSeconds: number;
  /** Attached keys, in key order. */
  readonly keys: readonly Uint8Array[];
}

export type EventsResult = { readonly ok: true; readonly events: readonly KvEvent[] } | KvFailure;

export type KvEventsListener = (events: readonly KvEvent[]) => void;
/** Told that a watch ended because events it still needed were compacted away (see KvStore.importState). */
export type CompactedListener = (compactRevision: number) => void;

export interface Disposable {
  dispose(): void;
}

export function kvFailure(code: KvErrorCode, message: string): KvFailure {
  return { ok: false, code, message };
}
