/**
 * The KvService of one node (service.ts): writes go through the leader's log, linearizable
 * reads wait for a read index from the leader, serializable reads and watches use the local
 * applied state. The peer-transport half (what the leader runs for a follower's forwarded
 * request) is `handle`, so both halves live side by side.
 */
import type { CaRotation, CaRotationView } from './ca-rotation.js';
import { randomInt } from 'node:crypto';
import type { RaftNode } from '../node/index.js';
import {
  type AclRole,
  encodeKvCommand,
  encodeFencingCommand,
  encodeWorkloadCommand,
  fencingConfigProblem,
  fencingConfigSchema,
  jobSpecProblem,
  type FenceEvent,
  type FencingConfig,
  kvFailure,
  type JobSpec,
  type WorkloadCommand,
  type WorkloadResponse,
  type ClusterApplyResult,
  type ClusterStateMachine,
  type Disposable,
  type KvApplyResult,
  type KvCommand,
  type CompactedListener,
  type KvEventsListener,
  type KvFailure,
  type LeaseGrantResponse,
  type LeaseRevokeResponse,
  type RangeRequest,
  type RangeResponse,
} from '../state/index.js';
import { QuorateError } from '../util/errors.js';
import type { AllVotersAck } from './all-voters-ack.js';
import type { ConsensusCounters } from './counters.js';
import type { WriteQuorum } from './config.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { routeToLeader, translate, type LeaderRouteContext } from './leader-route.js';
import type { Backup } from '../cluster/backup.js';
import type { JoinRole } from '../cluster/join-token.js';
import { parseAdmitRequest, type Admission, type Admitted, type AdmitRequest, type JoinTokenView } from './admission.js';
import type { ArbiterAdded, ArbiterAddRequest } from './arbiter-enrollment.js';
import type { AccessControl, AclTokenView, Authentication } from './access.js';
import type { ClusterStatus } from './cluster-status.js';
import type { EventFeed } from './events.js';
import type { Consistency, KvService, LeaseStatus, NodeStatus, WorkloadView } from './service.js';
import { parseHeartbeat, reconcile, type HeartbeatRequest, type HeartbeatResponse, type NodeView, type WorkloadLeader } from '../workload/index.js';

/** Random lease ids stay below 2^47: exact in JSON numbers, and within crypto.randomInt's range. */
const leaseIdMax = 2 ** 47;

export interface KvServiceContext extends LeaderRouteContext {
  readonly raft: RaftNode<ClusterApplyResult>;
  readonly state: ClusterStateMachine;
  readonly leases: LeaseKeeper;
  readonly allVotersAck: AllVotersAck;
  readonly writeQuorum: WriteQuorum;
  readonly requestTimeoutMs: number;
  /** Counts the proposals this node makes as leader (committed, failed, pending). */
  readonly counters: ConsensusCounters;
  /** Ask the leader over the peer transport. */
  request(to: string, method: string, body: unknown, timeoutMs: number): Promise<unknown>;
  status(): NodeStatus;
  clusterStatus(): Promise<ClusterStatus>;
  removeMember(id: string): Promise<void>;
  leave(): Promise<void>;
  readonly admission: Admission;
  readonly access: AccessControl;
  readonly rotation: CaRotation;
  /** The first 16 hex digits of the cluster CA's fingerprint. */
  readonly clusterId: string;
  readonly workloadLeader: WorkloadLeader;
  readonly allocationRoot: string | null;
  readonly events: EventFeed;
}

export class NodeKvService implements KvService {
  constructor(private readonly ctx: KvServiceContext) {}

  write(command: Exclude<KvCommand, { op: 'leaseGrant' | 'leaseRevoke' }>): Promise<KvApplyResult> {
    return this.propose(encodeKvCommand(command));
  }

  async range(request: RangeRequest, consistency: Consistency): Promise<RangeResponse | KvFailure> {
    if (consistency === 'linearizable') await this.readBarrier();
    return this.ctx.state.kv.range(request.key, request.rangeEnd, request);
  }

  watch(from: number, key: Uint8Array, rangeEnd: Uint8Array | undefined, listener: KvEventsListener, compacted: CompactedListener): Disposable | KvFailure {
    return this.ctx.state.kv.watch(from, key, rangeEnd, listener, compacted);
  }

  async leaseGrant(ttlSeconds: number, id = 0): Promise<LeaseGrantResponse | KvFailure> {
    for (;;) {
      const chosen = id === 0 ? randomInt(1, leaseIdMax) : id;
      const result = await this.propose(encodeKvCommand({ op: 'leaseGrant', id: chosen, ttlSeconds }));
      // A random id that happens to exist already is drawn again; a caller's id is not.
      if (!result.ok && result.code === 'lease_exists' && id === 0) continue;
      return result as LeaseGrantResponse | KvFailure;
    }
  }

  async leaseRevoke(id: number): Promise<LeaseRevokeResponse | KvFailure> {
    return (await this.propose(encodeKvCommand({ op: 'leaseRevoke', id }))) as LeaseRevokeResponse | KvFailure;
  }

  leaseKeepAlive(id: number): Promise<LeaseStatus | KvFailure> {
    return this.routed('lease.keepAlive', { id }, () => Promise.resolve(this.keepAliveHere(id)));
  }

  leaseTimeToLive(id: number): Promise<LeaseStatus | KvFailure> {
    return this.routed('lease.timeToLive', { id }, () => Promise.resolve(this.timeToLiveHere(id)));
  }

  async leaseIds(): Promise<number[]> {
    await this.readBarrier();
    return this.ctx.state.kv.leases().map((lease) => lease.id);
  }

  status(): NodeStatus {
    return this.ctx.status();
  }

  clusterStatus(): Promise<ClusterStatus> {
    return this.ctx.clusterStatus();
  }

  removeMember(id: string): Promise<void> {
    return this.ctx.removeMember(id);
  }

  async backup(): Promise<Backup> {
    // Linearizable: the backup holds every write acknowledged before it was asked for.
    await this.readBarrier();
    const state = this.ctx.state.snapshot();
    const header = { clusterId: this.ctx.clusterId, index: this.ctx.raft.basicStatus().applied, revision: this.ctx.state.kv.revision, createdAt: new Date().toISOString() };
    return { header, state };
  }

  leave(): Promise<void> {
    return this.ctx.leave();
  }

  authenticate(token: string): Authentication {
    return this.ctx.access.authenticate(token);
  }

  createAclToken(role: AclRole, prefix: string | null): Promise<{ readonly token: string; readonly view: AclTokenView }> {
    return this.ctx.access.createToken(role, prefix);
  }

  listAclTokens(): AclTokenView[] {
    return this.ctx.access.list();
  }

  revokeAclToken(id: string): Promise<AclTokenView> {
    return this.ctx.access.revoke(id);
  }

  caCertificate(): string {
    return this.ctx.admission.caCertificate();
  }

  createJoinToken(role: JoinRole, ttlMs: number): Promise<{ readonly token: string; readonly view: JoinTokenView }> {
    return this.ctx.admission.createToken(role, ttlMs);
  }

  listJoinTokens(): JoinTokenView[] {
    return this.ctx.admission.listTokens();
  }

  revokeJoinToken(id: string): Promise<JoinTokenView> {
    return this.ctx.admission.revokeToken(id);
  }

  rotateCa(): Promise<CaRotationView> {
    return this.ctx.rotation.begin();
  }

  caRotation(): Promise<CaRotationView> {
    return this.routed('ca.rotation', null, () => this.ctx.rotation.view());
  }

  addArbiter(request: ArbiterAddRequest): Promise<ArbiterAdded> {
    return this.ctx.admission.enrollArbiter(request);
  }

  admit(request: AdmitRequest): Promise<Admitted> {
    return this.routed('cluster.admit', request, () => this.ctx.admission.admit(request));
  }

  get allocationRoot(): string | null {
    return this.ctx.allocationRoot;
  }

  get events(): EventFeed {
    return this.ctx.events;
  }

  /** `timeoutMs`: this node's own agent gives up well before its watchdog (heartbeatAttemptMs). */
  agentHeartbeat(request: HeartbeatRequest, timeoutMs = this.ctx.requestTimeoutMs): Promise<HeartbeatResponse> {
    return this.routed('workload.heartbeat', request, () => this.ctx.workloadLeader.heartbeat(request), timeoutMs);
  }

  async putJob(spec: JobSpec): Promise<{ readonly version: number }> {
    const problem = jobSpecProblem(spec);
    if (problem !== null) throw new QuorateError('invalid_job', `the job is not valid: ${problem}`);
    const result = await this.proposeWorkload({ op: 'jobPut', spec });
    return { version: result.version ?? 0 };
  }

  async stopJob(name: string): Promise<void> {
    await this.proposeWorkload({ op: 'jobStop', name });
  }

  async setNodeFlags(id: string, flags: { readonly eligible?: boolean; readonly draining?: boolean }): Promise<void> {
    await this.proposeWorkload({ op: 'nodeFlags', id, ...flags });
  }

  async workload(): Promise<WorkloadView> {
    await this.readBarrier();
    const { nodes, jobs, allocations } = this.ctx.state.workload.state();
    // The scheduler is a pure function: run here on the same state, it tells what the leader cannot place.
    const { blocked } = reconcile({ nodes, jobs, allocations, newId: () => 'x' });
    return { nodes, jobs, allocations, blocked };
  }

  async fencing(): Promise<{ readonly config: FencingConfig; readonly history: readonly FenceEvent[] }> {
    await this.readBarrier();
    return { config: this.ctx.state.fencing.config, history: this.ctx.state.fencing.history() };
  }

  async configureFencing(document: unknown): Promise<FencingConfig> {
    const parsed = fencingConfigSchema.safeParse(document);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new QuorateError('bad_request', `fencing configuration: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
    }
    const config = parsed.data;
    const problem = fencingConfigProblem(config, new Map(this.ctx.state.workload.nodes().map((n) => [n.id, n.watchdogTimeoutMs])));
    if (problem !== null) throw new QuorateError('invalid_argument', problem);
    await this.propose(encodeFencingCommand({ op: 'fencingConfigure', config }));
    return config;
  }

  confirmDead(id: string): Promise<void> {
    return this.routed('workload.confirmDead', { id }, () => this.ctx.workloadLeader.confirmDead(id));
  }

  fenceNode(id: string): Promise<{ readonly fenced: boolean; readonly detail: string }> {
    return this.routed('workload.fence', { id }, () => this.ctx.workloadLeader.fenceNow(id));
  }

  nodes(): Promise<NodeView[]> {
    return this.routed('workload.nodes', null, () => Promise.resolve(this.ctx.workloadLeader.nodeViews()));
  }

  /** A workload command through the log, with the registry's answer. */
  async applyWorkload(command: WorkloadCommand): Promise<WorkloadResponse | KvFailure> {
    return (await this.propose(encodeWorkloadCommand(command))) as unknown as WorkloadResponse | KvFailure;
  }

  /** A workload command through the log; a refusal by the registry becomes an error. */
  private async proposeWorkload(command: WorkloadCommand): Promise<WorkloadResponse> {
    const result = await this.applyWorkload(command);
    if (!result.ok) throw new QuorateError(result.code, result.message);
    this.ctx.workloadLeader.schedule();
    return result;
  }

  /** Replicate an encoded command through the leader and return what applying it gave. */
  propose(data: Uint8Array): Promise<ClusterApplyResult & KvApplyResult> {
    return this.routed('kv.write', data, () => this.proposeHere(data)) as Promise<ClusterApplyResult & KvApplyResult>;
  }

  /** A follower's forwarded request, run on this node, which must be the leader. */
  async handle(method: string, body: unknown): Promise<unknown> {
    try {
      if (method === 'kv.write' && body instanceof Uint8Array) return await this.proposeHere(body);
      if (method === 'cluster.admit') return await this.ctx.admission.admit(parseAdmitRequest(body));
      if (method === 'workload.heartbeat') return await this.ctx.workloadLeader.heartbeat(parseHeartbeat(body));
      if (method === 'workload.nodes') return this.ctx.workloadLeader.nodeViews();
      if (method === 'workload.fence') return await this.ctx.workloadLeader.fenceNow(memberIdOf(body));
      if (method === 'workload.confirmDead') {
        await this.ctx.workloadLeader.confirmDead(memberIdOf(body));
        return null;
      }
      const id = leaseIdOf(body);
      if (method === 'lease.keepAlive' && id !== null) return this.keepAliveHere(id);
      if (method === 'lease.timeToLive' && id !== null) return this.timeToLiveHere(id);
    } catch (error) {
      throw translate(error, this.ctx.id);
    }
    throw new QuorateError('bad_request', `unknown peer request ${method}`);
  }

  private async readBarrier(): Promise<void> {
    const deadline = this.ctx.now() + this.ctx.requestTimeoutMs;
    // ReadIndex runs on any node (a follower asks the leader), so "local" is used either way.
    const read = (): Promise<undefined> => this.ctx.raft.read();
    await routeToLeader(this.ctx, deadline, read, read);
  }

  /** Run `local` on the leader: here when this node leads, else via `method` on the leader. */
  routed<T>(method: string, body: unknown, local: () => Promise<T>, timeoutMs = this.ctx.requestTimeoutMs): Promise<T> {
    const deadline = this.ctx.now() + timeoutMs;
    return routeToLeader(this.ctx, deadline, local, async (leader) => (await this.ctx.request(leader, method, body, Math.max(1, deadline - this.ctx.now()))) as T);
  }

  private async proposeHere(data: Uint8Array): Promise<ClusterApplyResult> {
    const applied = this.ctx.counters.proposal(this.ctx.raft.propose(data));
    // propose() appended the entry to this leader's log, so it is the last one.
    const index = this.ctx.raft.basicStatus().lastIndex;
    const result = await applied;
    if (this.ctx.writeQuorum === 'all') await this.ctx.allVotersAck.wait(index, this.ctx.now() + this.ctx.requestTimeoutMs);
    return result;
  }

  private keepAliveHere(id: number): LeaseStatus | KvFailure {
    if (this.ctx.raft.basicStatus().role !== 'leader') throw new QuorateError('not_leader', `node ${this.ctx.id} is not the leader`);
    const lease = this.ctx.state.kv.lease(id);
    if (lease === null || !this.ctx.leases.keepAlive(lease)) return kvFailure('lease_not_found', `lease ${id} not found or expired`);
    return { id, grantedTtlSeconds: lease.ttlSeconds, ttlSeconds: lease.ttlSeconds, keys: [] };
  }

  private timeToLiveHere(id: number): LeaseStatus | KvFailure {
    if (this.ctx.raft.basicStatus().role !== 'leader') throw new QuorateError('not_leader', `node ${this.ctx.id} is not the leader`);
    const lease = this.ctx.state.kv.lease(id);
    if (lease === null) return kvFailure('lease_not_found', `lease ${id} not found`);
    return { id, grantedTtlSeconds: lease.ttlSeconds, ttlSeconds: this.ctx.leases.remainingSeconds(lease), keys: lease.keys };
  }
}

function leaseIdOf(body: unknown): number | null {
  if (typeof body !== 'object' || body === null) return null;
  const id = (body as { id?: unknown }).id;
  return typeof id === 'number' && Number.isSafeInteger(id) ? id : null;
}

function memberIdOf(body: unknown): string {
  const id = typeof body === 'object' && body !== null ? (body as { id?: unknown }).id : undefined;
  if (typeof id !== 'string') throw new QuorateError('bad_request', 'a node id is needed');
  return id;
}
