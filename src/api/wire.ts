/**
 * The JSON shapes of the HTTP API, shared by the server (which writes them) and the client
 * (which reads them). Byte fields follow json-bytes.ts: `key`/`value` as UTF-8 text, or
 * `keyBase64`/`valueBase64` when the bytes are not valid UTF-8. Every successful response
 * carries `revision`, the store's current revision when the request was answered.
 */
import type { AclTokenView, Admitted, AdmitRequest, CaRotationView, ClusterEvent, ClusterStatus, JoinTokenView, MemberView, NodeStatus, WorkloadView } from '../server/index.js';
import type { Allocation, AllocationStatus, CompareResult, FenceEvent, FencingConfig, Job } from '../state/index.js';
import type { NodeView } from '../workload/index.js';
import type { AuthRefusalCode } from './authenticate.js';
import type { ConnectionCounts } from './connection-limits.js';
import type { BytesJson } from './json-bytes.js';
import type { LeaseCounts } from './lease-ledger.js';
import type { WatchCounts } from './watch-hub.js';

/**
 * The API server's own counters since it started: open and refused connections, requests
 * refused for their credentials (by code: 401 unauthorized, 403 forbidden, 429
 * too_many_attempts), open, refused and cut watch streams, and leases counted and refused per
 * principal. They show a client hitting a limit, or someone guessing tokens.
 */
export interface ApiCountersJson {
  readonly connections: ConnectionCounts;
  readonly authFailures: Readonly<Record<AuthRefusalCode, number>>;
  readonly watches: WatchCounts;
  readonly leases: LeaseCounts;
}

/** GET /v1/status answers the node's status as the service reports it, and the API's counters. */
export type StatusJson = NodeStatus & { readonly api: ApiCountersJson };

/** GET /v1/cluster/status: every member's own report and the warnings (seed 000's `cluster status`). */
export type ClusterStatusJson = ClusterStatus;
export type MemberViewJson = MemberView;

/** A join token as `GET /v1/cluster/join-tokens` lists it (never its secret). */
export type JoinTokenJson = JoinTokenView;
export type CaRotationJson = CaRotationView;
export type AclTokenJson = AclTokenView;
export type JoinRequestJson = AdmitRequest;
export type AdmittedJson = Admitted;

export type KeyValueJson = BytesJson<'key'> &
  BytesJson<'value'> & {
    readonly createRevision: number;
    readonly modRevision: number;
    readonly version: number;
    /** The attached lease id, 0 for none. */
    readonly lease: number;
  };

/** Every error: `{code, message}`, plus `revision` for compare_failed. */
export interface ErrorJson {
  readonly code: string;
  readonly message: string;
  readonly revision?: number;
}

export interface PutJson {
  readonly revision: number;
}

/** GET /v1/kv/{key}: the key-value's fields and the store's revision, side by side. */
export type GetJson = KeyValueJson & { readonly revision: number };

export interface ListJson {
  readonly kvs: readonly KeyValueJson[];
  /** How many keys match, ignoring limit. */
  readonly count: number;
  /** Whether limit cut the list short. */
  readonly more: boolean;
  readonly revision: number;
}

export interface DeleteJson {
  readonly deleted: number;
  readonly revision: number;
}

// Request shapes allow `undefined` for absent options (JSON.stringify drops them), so callers
// need not build objects conditionally under exactOptionalPropertyTypes.

/** A txn compare: `value` is text or `valueBase64` bytes for target value, a number otherwise. */
export type CompareJson = BytesJson<'key'> & {
  readonly prefix?: boolean | undefined;
  readonly result: CompareResult;
} & (
    | ({ readonly target: 'value' } & BytesJson<'value'>)
    | { readonly target: 'version' | 'createRevision' | 'modRevision' | 'lease'; readonly value: number }
  );

export type TxnOpJson =
  | (BytesJson<'key'> & BytesJson<'value'> & { readonly op: 'put'; readonly lease?: number | undefined })
  | (BytesJson<'key'> & { readonly op: 'delete'; readonly prefix?: boolean | undefined })
  | (BytesJson<'key'> & {
      readonly op: 'get';
      readonly prefix?: boolean | undefined;
      readonly limit?: number | undefined;
      readonly keysOnly?: boolean | undefined;
      readonly revision?: number | undefined;
    });

export interface TxnRequestJson {
  readonly compares: readonly CompareJson[];
  readonly success: readonly TxnOpJson[];
  readonly failure: readonly TxnOpJson[];
}

export type TxnOpResultJson =
  | { readonly op: 'put'; readonly revision: number }
  | { readonly op: 'delete'; readonly deleted: number; readonly revision: number }
  | { readonly op: 'get'; readonly kvs: readonly KeyValueJson[]; readonly count: number; readonly more: boolean; readonly revision: number };

export interface TxnJson {
  readonly succeeded: boolean;
  /** The revision after the transaction (unchanged when the chosen branch wrote nothing). */
  readonly revision: number;
  readonly responses: readonly TxnOpResultJson[];
}

export interface LeaseGrantJson {
  readonly id: number;
  readonly ttl: number;
  readonly revision: number;
}

export interface LeaseRevokeJson {
  readonly id: number;
  /** How many attached keys the revoke deleted. */
  readonly deleted: number;
  readonly revision: number;
}

export interface LeaseJson {
  readonly id: number;
  /** Seconds left as the leader counts them; -1 once expired or unknown. */
  readonly ttl: number;
  readonly grantedTtl: number;
  /** Attached keys (GET /v1/lease/{id} only). */
  readonly keys?: readonly BytesJson<'key'>[];
  readonly revision: number;
}

/**
 * One line of a watch stream. An event line's `revision` is the revision of the write that
 * made it (equal to modRevision; a delete has createRevision and version 0 and an empty
 * value). A progress line promises that every event up to its revision has been sent.
 */
export type WatchLineJson =
  | (KeyValueJson & { readonly type: 'put' | 'delete'; readonly revision: number })
  | { readonly type: 'progress'; readonly revision: number };

/** GET /v1/health; an unhealthy node answers 503 with these fields plus `code` and `message`. */
export interface HealthJson {
  readonly healthy: boolean;
  readonly id: string;
  readonly leader: string | null;
  readonly role: NodeStatus['role'];
  readonly term: number;
  readonly revision: number;
}

/** POST /v1/jobs: the job's version after the submission (unchanged when the spec was the same). */
export interface JobSubmittedJson {
  readonly name: string;
  readonly version: number;
}

/** One job in GET /v1/jobs; `allocations` counts only the copies meant to run, by status. */
export interface JobSummaryJson {
  readonly name: string;
  readonly version: number;
  readonly count: number;
  readonly stopped: boolean;
  readonly allocations: Readonly<Record<AllocationStatus, number>>;
}

/** GET /v1/jobs/{name}: the job, every allocation kept for it, and the copies that cannot be placed now. */
export interface JobStatusJson {
  readonly job: Job;
  readonly allocations: readonly Allocation[];
  readonly blocked: WorkloadView['blocked'];
}

/** A node in GET /v1/nodes: its registry record and what the leader last heard from it. */
export type NodeViewJson = NodeView;

/** GET /v1/fencing. */
export interface FencingJson {
  readonly config: FencingConfig;
  readonly history: readonly FenceEvent[];
}

/** POST /v1/nodes/{id}/fence. */
export interface FenceResultJson {
  readonly node: string;
  readonly fenced: boolean;
  readonly detail: string;
}

/** One cluster event as this node recorded it (server/events.ts has the types and their meaning). */
export type ClusterEventJson = ClusterEvent;

/** GET /v1/events: the buffered events from `from` on, oldest first, and the seq to ask from next. */
export interface EventsJson {
  readonly events: readonly ClusterEventJson[];
  readonly next: number;
}

/**
 * One line of GET /v1/events?follow=true: an event, or a progress line (the first after the
 * buffered events, then every few seconds) promising that every event before `next` was sent.
 */
export type EventLineJson = ClusterEventJson | { readonly type: 'progress'; readonly next: number };
