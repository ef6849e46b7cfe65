/**
 * The client's public types. Keys and values are bytes; wherever the client takes one, a
 * string is accepted too and sent as its UTF-8 encoding. Results carry bytes (KeyValue is the
 * state machine's own type), so binary data round-trips; TextDecoder turns them into text.
 */
import type { CompareResult, FencingConfig, JobSpec, KeyValue } from '../state/index.js';

export type { KeyValue, CompareResult, FencingConfig, JobSpec };

export type Bytes = string | Uint8Array;

export type Consistency = 'linearizable' | 'serializable';

export interface PutOptions {
  /** Attach the key to this lease; it is deleted when the lease ends. */
  readonly lease?: number;
  /**
   * Compare-and-swap: write only if the key's modRevision is this (0: only if the key does not
   * exist); otherwise fail with code compare_failed and the current revision.
   */
  readonly prevModRevision?: number;
}

export interface GetOptions {
  readonly consistency?: Consistency;
  /** Read at this past revision. */
  readonly revision?: number;
}

export interface ListOptions extends GetOptions {
  readonly limit?: number;
  readonly keysOnly?: boolean;
}

export interface KvList {
  readonly kvs: readonly KeyValue[];
  /** How many keys match, ignoring limit. */
  readonly count: number;
  readonly more: boolean;
  readonly revision: number;
}

export interface WriteResult {
  readonly revision: number;
}

export interface DeleteResult {
  readonly deleted: number;
  readonly revision: number;
}

export type CompareInput = { readonly key: Bytes; readonly prefix?: boolean; readonly result: CompareResult } & (
  | { readonly target: 'value'; readonly value: Bytes }
  | { readonly target: 'version' | 'createRevision' | 'modRevision' | 'lease'; readonly value: number }
);

export type TxnOpInput =
  | { readonly op: 'put'; readonly key: Bytes; readonly value: Bytes; readonly lease?: number }
  | { readonly op: 'delete'; readonly key: Bytes; readonly prefix?: boolean }
  | { readonly op: 'get'; readonly key: Bytes; readonly prefix?: boolean; readonly limit?: number; readonly keysOnly?: boolean; readonly revision?: number };

export interface TxnInput {
  readonly compares?: readonly CompareInput[];
  readonly success?: readonly TxnOpInput[];
  readonly failure?: readonly TxnOpInput[];
}

export type TxnOpResult =
  | { readonly op: 'put'; readonly revision: number }
  | { readonly op: 'delete'; readonly deleted: number; readonly revision: number }
  | ({ readonly op: 'get' } & KvList);

export interface TxnResult {
  readonly succeeded: boolean;
  readonly revision: number;
  readonly responses: readonly TxnOpResult[];
}

export interface LeaseGrant {
  readonly id: number;
  readonly ttl: number;
  readonly revision: number;
}

export interface LeaseRevoke {
  readonly id: number;
  /** Keys deleted with the lease. */
  readonly deleted: number;
  readonly revision: number;
}

export interface LeaseState {
  readonly id: number;
  /** Seconds left; -1 once expired or unknown. */
  readonly ttl: number;
  readonly grantedTtl: number;
  readonly revision: number;
}

export interface LeaseWithKeys extends LeaseState {
  readonly keys: readonly Uint8Array[];
}

export type WatchTarget = { readonly key: Bytes } | { readonly prefix: Bytes };

export interface WatchEvent {
  readonly type: 'put' | 'delete';
  /** For a delete: the key, with modRevision the deleting revision and everything else empty. */
  readonly kv: KeyValue;
  /** The revision of the write that made this event. */
  readonly revision: number;
}

export interface LogOptions {
  readonly stream?: 'stdout' | 'stderr';
  /** Where in the log file to start; absent: the last 64 KiB. */
  readonly offset?: number;
  /** Keep the response open and deliver what the task writes next, until `signal` aborts. */
  readonly follow?: boolean;
  /** Aborting ends the iteration quietly (Ctrl-C in `quorate job logs --follow`). */
  readonly signal?: AbortSignal;
}
