/**
 * The leader's half of the workload: it takes the agents' heartbeats, declares a node down when
 * its heartbeats have been missing for longer than the node's watchdog timeout plus a margin,
 * and runs the scheduler after every change, proposing its plan through the log.
 *
 * Why a down node's jobs can be replaced without ever running twice: a node's watchdog (its
 * fence, enforced by each task's supervisor) stops its jobs at the latest `watchdogTimeoutMs`
 * after it *sent* the last heartbeat the leader answered. The leader notes each heartbeat when
 * it *arrives* (later than it was sent) and declares the node down only `watchdogTimeoutMs +
 * lossMarginMs` after the newest one, so the jobs ended before: the margin covers the
 * supervisors' polling and the two machines' clocks running at slightly different rates. A new
 * leader knows no heartbeat times, so it counts every node from its own election.
 *
 * Heartbeat times and free memory live only in the leader's memory (not the log): they change
 * every second, and only their consequences (a node down, registered again) are decisions.
 */
import { randomBytes } from 'node:crypto';
import type { Allocation, Job, KvFailure, WorkloadCommand, WorkloadNode, WorkloadRegistry, WorkloadResponse } from '../state/index.js';
import { isEnded } from '../state/index.js';
import { QuorateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { HeartbeatRequest, HeartbeatResponse, NodeDescription } from './protocol.js';
import { reconcile, type Blocked } from './scheduler.js';

/** Added to a node's watchdog timeout before the leader declares it down. */
export const lossMarginMs = 1_000;

export interface WorkloadLeaderContext {
  readonly id: string;
  /** This node's applied registry. */
  readonly registry: WorkloadRegistry;
  readonly isLeader: () => boolean;
  /** Through this node's log, on the leader; resolves once applied. */
  readonly propose: (command: WorkloadCommand) => Promise<WorkloadResponse | KvFailure>;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  readonly adminTokenHash: () => string | null;
  readonly log: Logger;
}

/** A node as `node list` shows it: the registry's record and what the leader last heard. */
export interface NodeView extends WorkloadNode {
  /** Allocations placed here that may be running. */
  readonly jobs: number;
  readonly freeMemoryMb: number | null;
  readonly lastHeartbeatMs: number | null;
}

export class WorkloadLeader {
  private readonly lastHeard = new Map<string, { readonly at: number; readonly freeMemoryMb: number }>();
  private wasLeader = false;
  private leaderSince = 0;
  private planning = false;
  private again = false;
  private lastBlocked: Blocked[] = [];

  constructor(private readonly ctx: WorkloadLeaderContext) {}

  /** On the leader: note the node, record its reports, answer with what it should run. */
  async heartbeat(request: HeartbeatRequest): Promise<HeartbeatResponse> {
    if (!this.ctx.isLeader()) throw new QuorateError('not_leader', `node ${this.ctx.id} is not the leader`);
    // Noted before anything is awaited: the arrival time is what the down rule counts from.
    this.lastHeard.set(request.node.id, { at: this.ctx.now(), freeMemoryMb: request.freeMemoryMb });
    const registry = this.ctx.registry;
    const known = registry.node(request.node.id);
    if (known === undefined || known.status === 'down' || !sameDescription(known, request.node)) {
      await this.expect(this.ctx.propose({ op: 'nodeRegister', node: request.node }), `register node ${request.node.id}`);
      if (known?.status === 'down') this.ctx.log.log('info', 'a node that was down is heard from again', { node: request.node.id });
      this.schedule();
    }
    for (const report of request.reports) {
      const allocation = registry.allocation(report.id);
      if (allocation === undefined || allocation.node !== request.node.id || !changed(allocation, report)) continue;
      await this.expect(this.ctx.propose({ op: 'allocStatus', ...report }), `record the status of ${report.id}`);
      this.schedule();
    }
    const allocations = registry.allocations().filter((a) => a.node === request.node.id);
    const jobs = [...new Set(allocations.map((a) => a.job))].map((name) => registry.job(name)).filter((job): job is Job => job !== undefined);
    return { leader: this.ctx.id, allocations, jobs: jobs.map(({ version, spec }) => ({ version, spec })), adminTokenHash: this.ctx.adminTokenHash() };
  }

  /** Called on every node each housekeeping round; acts only on the leader. */
  tick(): void {
    const leader = this.ctx.isLeader();
    if (leader && !this.wasLeader) {
      // Heartbeats sent to the previous leader are unknown here: every node gets a full timeout.
      this.lastHeard.clear();
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
    void this.planRounds().finally(() => (this.planning = false));
  }

  /** Copies the scheduler could not place in its last run, and why. */
  blocked(): readonly Blocked[] {
    return this.lastBlocked;
  }

  nodeViews(): NodeView[] {
    const allocations = this.ctx.registry.allocations();
    return this.ctx.registry.nodes().map((node) => {
      const heard = this.lastHeard.get(node.id);
      return {
        ...node,
        jobs: allocations.filter((a) => a.node === node.id && a.desired === 'run' && !isEnded(a)).length,
        freeMemoryMb: heard?.freeMemoryMb ?? null,
        lastHeartbeatMs: heard === undefined ? null : this.ctx.now() - heard.at,
      };
    });
  }

  private async planRounds(): Promise<void> {
    do {
      this.again = false;
      if (!this.ctx.isLeader()) return;
      try {
        await this.markLostNodes();
        await this.planOnce();
      } catch (error) {
        // Lost leadership or quorum: the next round (or the next leader) plans again.
        this.ctx.log.log('warn', 'scheduling round failed; retrying', { reason: (error as Error).message });
        return;
      }
    } while (this.rerunRequested());
  }

  /** A method, so that the compiler does not assume the flag is still what this round set. */
  private rerunRequested(): boolean {
    return this.again;
  }

  private async markLostNodes(): Promise<void> {
    const now = this.ctx.now();
    for (const node of this.ctx.registry.nodes()) {
      if (node.status !== 'ready') continue;
      const since = this.lastHeard.get(node.id)?.at ?? this.leaderSince;
      const silentMs = now - since;
      if (silentMs <= node.watchdogTimeoutMs + lossMarginMs) continue;
      await this.expect(this.ctx.propose({ op: 'nodeStatus', id: node.id, status: 'down' }), `mark ${node.id} down`);
      this.ctx.log.log('warn', 'node lost: no heartbeat for longer than its watchdog timeout; its jobs have stopped and are replaced', {
        node: node.id,
        silentMs,
        watchdogTimeoutMs: node.watchdogTimeoutMs,
      });
    }
  }

  private async planOnce(): Promise<void> {
    const registry = this.ctx.registry;
    const plan = reconcile({ nodes: registry.nodes(), jobs: registry.jobs(), allocations: registry.allocations(), newId: () => randomBytes(4).toString('hex') });
    this.lastBlocked = plan.blocked;
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
