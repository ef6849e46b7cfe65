/**
 * The leader's half of the workload: it takes the agents' heartbeats, declares a silent node
 * lost, fences it, and only then (node down) lets the scheduler replace what it ran; the
 * scheduler runs after every change and its plan goes through the log.
 *
 * A node is lost once no heartbeat has arrived for min(its watchdog timeout, 3 s); what it runs
 * still counts as running. Fencing it (seed 003) is either
 * - direct: the configured fence devices, level by level (fencer.ts), power it off; or
 * - the watchdog (indirect): a node's fence (workload/fence.ts, enforced by each task's
 *   supervisor) stops its jobs at the latest `watchdogTimeoutMs` after it *sent* the last
 *   heartbeat the leader answered. The leader notes each heartbeat when it *arrives* (later) and
 *   counts the node fenced `fence_delay` after the newest one (default: its watchdog timeout +
 *   `lossMarginMs`, which covers the supervisors' polling and clocks running at slightly
 *   different rates; a configured fence_delay must exceed every node's watchdog timeout).
 * Devices are tried first; the watchdog is the fallback unless the operator turned it off, and
 * then a node no device could fence stays lost (nothing is replaced; `node list` and `fence
 * history` say why) and fencing is tried again every `fenceRetryMs`. A new leader knows no
 * heartbeat times, so it counts every node from its own election.
 *
 * Heartbeat times and free memory live only in the leader's memory (not the log): they change
 * every second, and only their consequences (a node down, registered again) are decisions.
 */
import { randomBytes } from 'node:crypto';
import type { Allocation, FenceEvent, FencingConfig, Job, KvFailure, NoQuorumPolicy, WorkloadCommand, WorkloadNode, WorkloadRegistry, WorkloadResponse } from '../state/index.js';
import { isEnded } from '../state/index.js';
import { QuorateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { HeartbeatRequest, HeartbeatResponse, LogReaders, NodeDescription, TlsGrant, TlsReport } from './protocol.js';
import { fenceWithDevices, type FenceOutcome } from './fencer.js';
import { reconcile } from './scheduler.js';

/** Added to a node's watchdog timeout before watchdog fencing counts it fenced (by default). */
export const lossMarginMs = 1_000;
/** A node is lost after this long without a heartbeat (or its watchdog timeout, if shorter). */
export const lostAfterMs = 3_000;
/** How long after every way of fencing a node failed it is tried again. */
export const fenceRetryMs = 10_000;

const allPolicies: readonly NoQuorumPolicy[] = ['stop', 'freeze', 'ignore'];

/** Where the leader is with fencing one lost node (its memory only; a new leader starts over). */
type Fencing = { readonly phase: 'devices' } | { readonly phase: 'watchdog'; readonly detail: string } | { readonly phase: 'failed'; readonly detail: string; readonly retryAt: number };

export interface WorkloadLeaderContext {
  readonly id: string;
  /** This node's applied registry. */
  readonly registry: WorkloadRegistry;
  readonly isLeader: () => boolean;
  /**
   * Resolves once a quorum has confirmed this node still leads (Raft's ReadIndex round); rejects
   * when it does not. A heartbeat is answered only after it: see heartbeat().
   */
  readonly confirmLeader: () => Promise<void>;
  /** Through this node's log, on the leader; resolves once applied. */
  readonly propose: (command: WorkloadCommand) => Promise<WorkloadResponse | KvFailure>;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  readonly logReaders: () => LogReaders;
  /** host:port of the voters' and learners' APIs. */
  readonly servers: () => readonly string[];
  /** A worker's renewed certificate or CA rotation step, when its report calls for one. */
  readonly tlsGrant: (node: NodeDescription, report: TlsReport) => Promise<TlsGrant | undefined>;
  readonly fencingConfig: () => FencingConfig;
  /** Add an attempt to the replicated fencing history. */
  readonly recordFence: (event: Omit<FenceEvent, 'seq'>) => Promise<void>;
  /** Wall-clock milliseconds, for the history's timestamps. */
  readonly wallClock: () => number;
  readonly log: Logger;
  /** Told of each heartbeat this leader receives (the metrics count them by node). */
  readonly heard?: (node: string) => void;
}

/** A node as `node list` shows it: the registry's record and what the leader last heard. */
export interface NodeView extends WorkloadNode {
  /** Allocations placed here that may be running. */
  readonly jobs: number;
  readonly freeMemoryMb: number | null;
  readonly lastHeartbeatMs: number | null;
  /** For a lost node: what fencing it is doing or why it failed. */
  readonly fencing: string | null;
}

export class WorkloadLeader {
  private readonly lastHeard = new Map<string, { readonly at: number; readonly freeMemoryMb: number }>();
  private wasLeader = false;
  private leaderSince = 0;
  private planning = false;
  private again = false;
  private readonly fencing = new Map<string, Fencing>();
  /** Each worker's TLS identity as its last heartbeat here described it (CA rotation waits on them). */
  private readonly tlsReports = new Map<string, TlsReport>();

  constructor(private readonly ctx: WorkloadLeaderContext) {}

  /** What the last heartbeat of `id` said about its TLS identity; undefined when none arrived at this leader. */
  tlsReport(id: string): TlsReport | undefined {
    return this.tlsReports.get(id);
  }

  /** On the leader: note the node, record its reports, answer with what it should run. */
  async heartbeat(request: HeartbeatRequest): Promise<HeartbeatResponse> {
    if (!this.ctx.isLeader()) throw new QuorateError('not_leader', `node ${this.ctx.id} is not the leader`);
    // Noted before anything is awaited: the arrival time is what the down rule counts from. A
    // node refused below still counts as alive: it is not lost, so nothing of it is replaced
    // while its watchdog (too long for fence_delay) might still let its jobs run.
    this.lastHeard.set(request.node.id, { at: this.ctx.now(), freeMemoryMb: request.freeMemoryMb });
    this.ctx.heard?.(request.node.id);
    const registry = this.ctx.registry;
    const known = registry.node(request.node.id);
    const problem = this.watchdogProblem(request.node);
    if (problem !== null) throw new QuorateError('invalid_argument', problem);
    if (known === undefined || known.status !== 'ready' || !sameDescription(known, request.node)) {
      await this.expect(this.ctx.propose({ op: 'nodeRegister', node: request.node }), `register node ${request.node.id}`);
      if (known !== undefined && known.status !== 'ready') this.ctx.log.log('info', `a node that was ${known.status} is heard from again`, { node: request.node.id });
      this.schedule();
    }
    for (const report of request.reports) {
      const allocation = registry.allocation(report.id);
      if (allocation === undefined || allocation.node !== request.node.id || !changed(allocation, report)) continue;
      await this.expect(this.ctx.propose({ op: 'allocStatus', ...report }), `record the status of ${report.id}`);
      this.schedule();
    }
    // An answer extends the node's fence to (send time + watchdog timeout). A leader cut off from
    // its peers could otherwise keep answering until check-quorum demotes it, while the other
    // side has already elected a leader that counts this node from its election. A quorum
    // confirming this leadership after the heartbeat arrived means no newer leader existed before
    // the heartbeat was sent, so the new leader's count (election + fence_delay) ends after
    // the fence (send + watchdog timeout) — even for a heartbeat answered by an isolated leader.
    await this.ctx.confirmLeader();
    if (request.tls !== undefined) this.tlsReports.set(request.node.id, request.tls);
    const tls = request.tls === undefined ? undefined : await this.ctx.tlsGrant(request.node, request.tls);
    const allocations = registry.allocationsOn(request.node.id);
    const jobs = [...new Set(allocations.map((a) => a.job))].map((name) => registry.job(name)).filter((job): job is Job => job !== undefined);
    return {
      leader: this.ctx.id,
      allocations,
      jobs: jobs.map(({ version, spec }) => ({ version, spec })),
      logReaders: this.ctx.logReaders(),
      noQuorumPolicy: this.ctx.fencingConfig().noQuorumPolicy,
      servers: this.ctx.servers(),
      ...(tls === undefined ? {} : { tls }),
    };
  }

  /** Called on every node each housekeeping round; acts only on the leader. */
  tick(): void {
    const leader = this.ctx.isLeader();
    if (leader && !this.wasLeader) {
      // Heartbeats sent to the previous leader are unknown here: every node gets a full timeout.
      this.lastHeard.clear();
      this.tlsReports.clear();
      this.leaderSince = this.ctx.now();
    }
    this.wasLeader = leader;
    if (leader) this.schedule();
  }

  /** Run the scheduler (and the down rule) now, or right after the run under way. */
  schedule(): void {
    if (this.planning) {
      this.again = true;
      return;
    }
    this.planning = true;
    void this.planRounds();
  }

  nodeViews(): NodeView[] {
    const jobs = new Map<string, number>();
    for (const a of this.ctx.registry.allocations()) if (a.desired === 'run' && !isEnded(a)) jobs.set(a.node, (jobs.get(a.node) ?? 0) + 1);
    return this.ctx.registry.nodes().map((node) => {
      const heard = this.lastHeard.get(node.id);
      return {
        ...node,
        jobs: jobs.get(node.id) ?? 0,
        freeMemoryMb: heard?.freeMemoryMb ?? null,
        lastHeartbeatMs: heard === undefined ? null : this.ctx.now() - heard.at,
        fencing: node.status === 'lost' ? describeFencing(this.fencing.get(node.id)) : null,
      };
    });
  }

  private async planRounds(): Promise<void> {
    try {
      do {
        this.again = false;
        if (!this.ctx.isLeader()) return;
        await this.checkNodes();
        await this.planOnce();
      } while (this.rerunRequested());
    } catch (error) {
      // Lost leadership or quorum: the next round (or the next leader) plans again.
      this.ctx.log.log('warn', 'scheduling round failed; retrying', { reason: (error as Error).message });
    } finally {
      // In the same step as the last check of `again`: a schedule() after it starts a new run
      // (clearing the flag in a later .finally() lost requests made in between).
      this.planning = false;
    }
  }

  /** A method, so that the compiler does not assume the flag is still what this round set. */
  private rerunRequested(): boolean {
    return this.again;
  }

  /** `quorate fence <node>`: run the fence devices now; on success the node is down and its jobs are replaced. */
  async fenceNow(id: string): Promise<FenceOutcome> {
    if (!this.ctx.isLeader()) throw new QuorateError('not_leader', `node ${this.ctx.id} is not the leader`);
    const node = this.ctx.registry.node(id);
    if (node === undefined) throw new QuorateError('not_found', `no node ${id} is registered to run jobs (see \`quorate node list\`)`);
    const config = this.ctx.fencingConfig();
    if (config.levels.length === 0) throw new QuorateError('invalid_argument', 'no fence devices are configured (`quorate fence config FILE`); nothing can fence a node by hand');
    const outcome = await fenceWithDevices(config.levels, node);
    await this.ctx.recordFence({ node: id, atMs: this.ctx.wallClock(), method: 'manual', outcome: outcome.fenced ? 'fenced' : 'failed', detail: outcome.detail });
    if (outcome.fenced) await this.markDown(node, 'fenced by hand', allPolicies);
    return outcome;
  }

  /** Why this node's watchdog timeout does not fit the cluster's fence_delay, or null. */
  private watchdogProblem(node: NodeDescription): string | null {
    const delay = this.ctx.fencingConfig().fenceDelayMs;
    if (delay === null || node.watchdogTimeoutMs < delay) return null;
    return `node ${node.id}'s watchdog timeout (${node.watchdogTimeoutMs} ms) is not below the cluster's fence_delay (${delay} ms): its jobs could be started elsewhere while they still run there, so it is not admitted; lower its --watchdog-timeout or raise fence_delay`;
  }

  /** Lost nodes: silent too long. Lost nodes are fenced, then down. */
  private async checkNodes(): Promise<void> {
    const now = this.ctx.now();
    for (const node of this.ctx.registry.nodes()) {
      if (node.status !== 'lost') this.fencing.delete(node.id);
      if (node.status === 'down') continue;
      const silentMs = now - (this.lastHeard.get(node.id)?.at ?? this.leaderSince);
      if (node.status === 'ready') {
        if (silentMs <= Math.min(node.watchdogTimeoutMs, lostAfterMs)) continue;
        await this.expect(this.ctx.propose({ op: 'nodeStatus', id: node.id, status: 'lost' }), `mark ${node.id} lost`);
        this.ctx.log.log('warn', 'node lost: no heartbeat; fencing it before its jobs are replaced', { node: node.id, silentMs });
        // Jobs that may run twice are replaced at once.
        await this.markLost(node, ['ignore'], `node ${node.id} was lost (no-quorum policy ignore: replaced at once)`);
      }
      // Nothing placed on it can be running (a worker admitted but not started yet, say): there is
      // nothing to fence, and a fence device must not power off a machine for nothing.
      if (!this.ctx.registry.allocationsOn(node.id).some((a) => !isEnded(a))) {
        await this.markDown(node, 'it holds no jobs, so there is nothing to fence', allPolicies);
        continue;
      }
      await this.advanceFencing(node, silentMs);
    }
  }

  private async advanceFencing(node: WorkloadNode, silentMs: number): Promise<void> {
    const config = this.ctx.fencingConfig();
    const state = this.fencing.get(node.id);
    if (state === undefined) {
      if (config.levels.length > 0) {
        this.fencing.set(node.id, { phase: 'devices' });
        void this.fenceWithDevicesInBackground(node, config);
      } else this.afterDevices(node, config, 'no fence devices are configured');
      return;
    }
    if (state.phase === 'failed' && this.ctx.now() >= state.retryAt) this.fencing.delete(node.id);
    if (state.phase !== 'watchdog') return;
    const delay = config.fenceDelayMs ?? node.watchdogTimeoutMs + lossMarginMs;
    if (silentMs <= delay) return;
    await this.ctx.recordFence({ node: node.id, atMs: this.ctx.wallClock(), method: 'watchdog', outcome: 'fenced', detail: `${state.detail}; no heartbeat for ${silentMs} ms > fence_delay ${delay} ms: the node's watchdog has stopped its jobs` });
    // Its watchdog stopped only the `stop` jobs: `freeze` ones may still run until a device fences
    // the node or an operator confirms it dead.
    await this.markDown(node, 'fenced by its watchdog', ['stop']);
  }

  private async fenceWithDevicesInBackground(node: WorkloadNode, config: FencingConfig): Promise<void> {
    try {
      const outcome = await fenceWithDevices(config.levels, node);
      if (!this.ctx.isLeader() || this.ctx.registry.node(node.id)?.status !== 'lost') {
        this.fencing.delete(node.id);
        return;
      }
      await this.ctx.recordFence({ node: node.id, atMs: this.ctx.wallClock(), method: 'devices', outcome: outcome.fenced ? 'fenced' : 'failed', detail: outcome.detail });
      if (outcome.fenced) {
        await this.markDown(node, 'fenced by its fence devices', allPolicies);
        this.fencing.delete(node.id);
      } else this.afterDevices(node, config, outcome.detail);
    } catch (error) {
      this.ctx.log.log('warn', 'fencing round failed; retrying', { node: node.id, reason: (error as Error).message });
      this.fencing.delete(node.id);
    }
    this.schedule();
  }

  /** No device fenced the node: wait out its watchdog, or (watchdog fencing off) give up for a while. */
  private afterDevices(node: WorkloadNode, config: FencingConfig, detail: string): void {
    if (config.watchdog) {
      this.fencing.set(node.id, { phase: 'watchdog', detail });
      return;
    }
    this.fencing.set(node.id, { phase: 'failed', detail: `${detail}; watchdog fencing is off, so its jobs are not replaced until a fence device succeeds (retry in ${fenceRetryMs / 1000} s)`, retryAt: this.ctx.now() + fenceRetryMs });
    this.ctx.log.log('error', 'cannot fence a lost node: its jobs are not replaced', { node: node.id, detail });
  }

  /**
   * `quorate node confirm-dead <node>`: an operator vouches that a lost node is off (seed 003's
   * "a human confirms the peer is dead"); everything it ran is replaced, frozen jobs included.
   */
  async confirmDead(id: string): Promise<void> {
    if (!this.ctx.isLeader()) throw new QuorateError('not_leader', `node ${this.ctx.id} is not the leader`);
    const node = this.ctx.registry.node(id);
    if (node === undefined) throw new QuorateError('not_found', `no node ${id} is registered to run jobs (see \`quorate node list\`)`);
    if (node.status === 'ready') throw new QuorateError('invalid_argument', `${id} is ready: its heartbeats arrive, so it is not dead. confirm-dead is for a lost node you know is off`);
    await this.ctx.recordFence({ node: id, atMs: this.ctx.wallClock(), method: 'manual', outcome: 'fenced', detail: 'confirmed dead by an operator (quorate node confirm-dead)' });
    await this.markDown(node, 'confirmed dead by an operator', allPolicies);
    this.fencing.delete(id);
  }

  /** Fenced: the node is down and its allocations under `policies` are lost (and replaced). */
  private async markDown(node: WorkloadNode, how: string, policies: readonly NoQuorumPolicy[]): Promise<void> {
    await this.expect(this.ctx.propose({ op: 'nodeStatus', id: node.id, status: 'down' }), `mark ${node.id} down`);
    await this.markLost(node, policies, `node ${node.id} was lost (${how})`);
    this.ctx.log.log('warn', `node down (${how}): its jobs are replaced`, { node: node.id, policies: policies.join(',') });
    this.schedule();
  }

  private async markLost(node: WorkloadNode, policies: readonly NoQuorumPolicy[], message: string): Promise<void> {
    const fallback = this.ctx.fencingConfig().noQuorumPolicy;
    const ids = this.ctx.registry
      .allocationsOn(node.id)
      .filter((a) => !isEnded(a) && policies.includes(this.ctx.registry.job(a.job)?.spec.noQuorumPolicy ?? fallback))
      .map((a) => a.id);
    if (ids.length > 0) await this.expect(this.ctx.propose({ op: 'allocsLost', ids, message }), `count ${ids.length} allocations of ${node.id} lost`);
  }

  private async planOnce(): Promise<void> {
    const registry = this.ctx.registry;
    const plan = reconcile({ nodes: registry.nodes(), jobs: registry.jobs(), allocations: registry.allocations(), newId: () => randomBytes(4).toString('hex') });
    if (plan.place.length === 0 && plan.stop.length === 0) return;
    const result = await this.ctx.propose({ op: 'plan', place: plan.place, stop: plan.stop });
    if (!result.ok) {
      // Made on a view that changed while it was proposed: plan again from the applied state.
      this.ctx.log.log('info', 'a plan no longer fit the state; planning again', { reason: result.message });
      this.again = true;
      return;
    }
    for (const p of plan.place) this.ctx.log.log('info', 'allocation placed', { allocation: p.id, node: p.node, version: p.version });
    for (const id of plan.stop) this.ctx.log.log('info', 'allocation to stop', { allocation: id });
    this.again = true;
  }

  private async expect(result: Promise<WorkloadResponse | KvFailure>, what: string): Promise<void> {
    const applied = await result;
    if (!applied.ok) throw new QuorateError(applied.code, `could not ${what}: ${applied.message}`);
  }
}

function sameDescription(known: WorkloadNode, description: NodeDescription): boolean {
  return (
    known.role === description.role &&
    known.address === description.address &&
    known.apiAddress === description.apiAddress &&
    known.watchdogTimeoutMs === description.watchdogTimeoutMs &&
    known.memoryMb === description.memoryMb &&
    known.cpu === description.cpu &&
    JSON.stringify(known.labels) === JSON.stringify(description.labels)
  );
}

function changed(allocation: Allocation, report: { status: string; restarts: number; exitCode: number | null; message: string }): boolean {
  if (allocation.status === 'lost') return false;
  return allocation.status !== report.status || allocation.restarts !== report.restarts || allocation.exitCode !== report.exitCode || allocation.message !== report.message;
}

function describeFencing(state: Fencing | undefined): string {
  if (state === undefined) return 'fencing';
  if (state.phase === 'devices') return 'fencing: running the fence devices';
  if (state.phase === 'watchdog') return `fencing: waiting out its watchdog (${state.detail})`;
  return `fencing failed: ${state.detail}`;
}
