/**
 * What one node offers the layers above it (the HTTP API, the etcd-compatible API, the library
 * handle): the replicated KV and the node's view of the cluster. Any node accepts any request:
 * writes are proposed on the leader (a follower forwards them over the peer transport) and
 * linearizable reads first learn a read index from the leader (Raft's ReadIndex), then read
 * the local state machine once it has applied that far.
 *
 * Expected failures of the cluster come back as rejected promises with a QuorateError whose
 * `code` is a ServiceErrorCode; failures of the request itself (bad key, compare failed,
 * unknown lease ...) come back as KvFailure values, as the state machine returns them.
 */
import type { CaRotationView } from './ca-rotation.js';
import type {
  Disposable,
  KvApplyResult,
  KvCommand,
  CompactedListener,
  KvEventsListener,
  KvFailure,
  LeaseGrantResponse,
  LeaseRevokeResponse,
  RangeRequest,
  RangeResponse,
} from '../state/index.js';
import type { Backup } from '../cluster/backup.js';
import type { JoinRole } from '../cluster/join-token.js';
import type { Admitted, AdmitRequest, JoinTokenView } from './admission.js';
import type { ArbiterAdded, ArbiterAddRequest } from './arbiter-enrollment.js';
import type { AclTokenView, Authentication } from './access.js';
import type { AclRole, Allocation, FenceEvent, FencingConfig, Job, JobSpec, WorkloadNode } from '../state/index.js';
import type { Blocked, HeartbeatRequest, HeartbeatResponse, NodeView } from '../workload/index.js';
import type { ClusterStatus } from './cluster-status.js';
import type { EventFeed } from './events.js';

export type ServiceErrorCode =
  /** No leader could commit the request within the request timeout (quorum lost or electing). */
  | 'no_quorum'
  /** The request may or may not have taken effect (the leader changed or the node stopped while it was in flight). */
  | 'outcome_unknown'
  /** The node is stopping or stopped. */
  | 'unavailable';

export type Consistency = 'linearizable' | 'serializable';

export type MemberHealth = 'healthy' | 'degraded' | 'unreachable';

export interface MemberStatus {
  readonly id: string;
  readonly voter: boolean;
  /** An arbiter (seed 003): votes and stores the log, but has no API and runs no jobs. */
  readonly arbiter: boolean;
  readonly peerAddress: string;
  readonly apiAddress: string;
  /** As the leader sees it (the local node always counts as healthy); null when not known here. */
  readonly health: MemberHealth | null;
  /** Leader only: the member's replicated log index. */
  readonly matchIndex: number | null;
  /** Milliseconds since the last message from this member, null when never heard from. */
  readonly lastContactMs: number | null;
}

export interface NodeStatus {
  readonly id: string;
  readonly role: 'leader' | 'follower' | 'candidate' | 'preCandidate' | 'learner';
  readonly term: number;
  readonly leader: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  /** The KV revision this node has applied. */
  readonly revision: number;
  readonly writeQuorum: 'majority' | 'all';
  readonly members: readonly MemberStatus[];
}

export interface LeaseStatus {
  readonly id: number;
  readonly grantedTtlSeconds: number;
  /** Seconds left as the leader counts them; -1 once expired or unknown. */
  readonly ttlSeconds: number;
  readonly keys: readonly Uint8Array[];
}

export interface KvService {
  /** Put, deleteRange, txn or compact through the log. Resolves with the applied result. */
  write(command: Exclude<KvCommand, { op: 'leaseGrant' | 'leaseRevoke' }>): Promise<KvApplyResult>;
  range(request: RangeRequest, consistency: Consistency): Promise<RangeResponse | KvFailure>;
  /**
   * Events for keys in [key, rangeEnd) (just `key` without rangeEnd) from revision `from`
   * (0: only future events), in revision order, each exactly once, on this node's applied
   * state. Fails with `compacted` when `from` is older than the compaction point; calls
   * `compacted` and ends when a snapshot from the leader skips events that are compacted.
   */
  watch(from: number, key: Uint8Array, rangeEnd: Uint8Array | undefined, listener: KvEventsListener, compacted: CompactedListener): Disposable | KvFailure;
  /** The serving node picks a random id when `id` is 0 or absent. */
  leaseGrant(ttlSeconds: number, id?: number): Promise<LeaseGrantResponse | KvFailure>;
  leaseRevoke(id: number): Promise<LeaseRevokeResponse | KvFailure>;
  /** Restart the lease's countdown on the leader; resolves with the granted TTL. */
  leaseKeepAlive(id: number): Promise<LeaseStatus | KvFailure>;
  leaseTimeToLive(id: number): Promise<LeaseStatus | KvFailure>;
  /** The ids of every lease, as of a linearizable read (etcd's LeaseLeases). */
  leaseIds(): Promise<number[]>;
  status(): NodeStatus;
  /** Every member's own report, gathered by this node (seed 000's `cluster status`). */
  clusterStatus(): Promise<ClusterStatus>;
  /** The replicated state as of a linearizable read, for `quorate snapshot save`. */
  backup(): Promise<Backup>;
  /** Remove a member through the log (`quorate node remove`); the leader leaves with `leave`. */
  removeMember(id: string): Promise<void>;
  /** This node hands leadership over if it leads, then removes itself (`quorate cluster leave`). */
  leave(): Promise<void>;
  /** The admin token or an API token (access.ts); the API checks every request with it. */
  authenticate(token: string): Authentication;
  createAclToken(role: AclRole, prefix: string | null): Promise<{ readonly token: string; readonly view: AclTokenView }>;
  listAclTokens(): AclTokenView[];
  revokeAclToken(id: string): Promise<AclTokenView>;
  /** Join tokens and admission (admission.ts). */
  caCertificate(): string;
  createJoinToken(role: JoinRole, ttlMs: number): Promise<{ readonly token: string; readonly view: JoinTokenView }>;
  listJoinTokens(): JoinTokenView[];
  revokeJoinToken(id: string): Promise<JoinTokenView>;
  /** Runs on the leader (a follower forwards it). */
  admit(request: AdmitRequest): Promise<Admitted>;
  /** `quorate cluster ca rotate` (ca-rotation.ts): make a new CA and carry the cluster over to it. */
  rotateCa(): Promise<CaRotationView>;
  /** Where a CA rotation is; answered by the leader (a follower forwards it). */
  caRotation(): Promise<CaRotationView>;
  /** `quorate cluster arbiter add` (arbiter-enrollment.ts): attach an arbiter process as a voter. */
  addArbiter(request: ArbiterAddRequest): Promise<ArbiterAdded>;
  /** An agent's heartbeat (workload/protocol.ts); runs on the leader (a follower forwards it). */
  agentHeartbeat(request: HeartbeatRequest, timeoutMs?: number): Promise<HeartbeatResponse>;
  /** Submit a job; a changed spec gets the next version and rolls out one allocation at a time. */
  putJob(spec: JobSpec): Promise<{ readonly version: number }>;
  stopJob(name: string): Promise<void>;
  /** `node eligibility` and `node drain`. */
  setNodeFlags(id: string, flags: { readonly eligible?: boolean; readonly draining?: boolean }): Promise<void>;
  /** Jobs and allocations as of a linearizable read, with the copies that cannot be placed now. */
  workload(): Promise<WorkloadView>;
  /** Every node that may run jobs, with what the leader last heard from it. */
  nodes(): Promise<NodeView[]>;
  /** Where this node keeps its allocations' logs; null when it runs no jobs. */
  readonly allocationRoot: string | null;
  /** The fencing configuration and history, as of a linearizable read. */
  fencing(): Promise<{ readonly config: FencingConfig; readonly history: readonly FenceEvent[] }>;
  /** Replace the fencing configuration (refused when fence_delay does not exceed a node's watchdog timeout). */
  configureFencing(config: unknown): Promise<FencingConfig>;
  /** `quorate node confirm-dead <node>`: an operator vouches that a lost node is off; its jobs are replaced. */
  confirmDead(id: string): Promise<void>;
  /** `quorate fence <node>`: run the fence devices against it now (on the leader). */
  fenceNode(id: string): Promise<{ readonly fenced: boolean; readonly detail: string }>;
  /** This node's recent cluster events (events.ts): `quorate events`, GET /v1/events. */
  readonly events: EventFeed;
}

export interface WorkloadView {
  readonly nodes: readonly WorkloadNode[];
  readonly jobs: readonly Job[];
  readonly allocations: readonly Allocation[];
  readonly blocked: readonly Blocked[];
}
