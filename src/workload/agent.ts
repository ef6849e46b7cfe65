/**
 * The agent: the part of every node (worker or server) that runs jobs. It heartbeats to the
 * leader through an AgentLink, runs the allocations the answer lists for its node (one
 * AllocRunner each), reports their status with the next heartbeat, and fences itself.
 *
 * Fencing (the watchdog): each answered heartbeat moves the node's fence (fence.ts) to the
 * moment it was sent plus `watchdogTimeoutMs`. Shortly before the fence expires the agent stops
 * its jobs itself (and starts no new ones); if the agent is dead or hung, each task's supervisor
 * kills its task before the deadline anyway. The leader replaces a silent node's jobs only after
 * a longer wait (leader.ts), so a job never runs in two places.
 *
 * Restarts: on start the agent reads what it ran (alloc-store.ts) and re-attaches to the tasks
 * that still run; one that ended while it was away is started afresh if the cluster still wants
 * it. Stopping the agent with `detach` leaves the tasks running under the fence: a new agent
 * that comes back within the watchdog timeout takes them over, otherwise they stop.
 */
import { mkdir } from 'node:fs/promises';
import { freemem } from 'node:os';
import type { Allocation, JobSpec, NoQuorumPolicy } from '../state/index.js';
import { isEnded } from '../state/index.js';
import type { Logger } from '../util/log.js';
import { AllocRunner, type AllocReport } from './alloc-runner.js';
import { AllocStore, type AllocRecord } from './alloc-store.js';
import type { TaskDriver, TaskHandle } from './driver.js';
import { monotonicMs, readFence, writeFence } from './fence.js';
import type { AllocStatusReport, HeartbeatRequest, HeartbeatResponse, LogReaders, NodeDescription, TlsGrant, TlsReport } from './protocol.js';
import type { WatchdogDevice } from './watchdog-device.js';

export interface AgentLink {
  /** Deliver a heartbeat to the leader (through any server) and return its answer. */
  heartbeat(request: HeartbeatRequest): Promise<HeartbeatResponse>;
  /** The servers as the leader last listed them (a link that talks to one server ignores this). */
  learnServers?(servers: readonly string[]): void;
  /**
   * Send from this address (the node's advertise address), as peer connections do, so that the
   * node is told apart by address: a firewall rule on it cuts exactly this node's heartbeats.
   */
  bindTo?(address: string): void;
  /** A worker's certificate as it stands, sent with each heartbeat (protocol.ts TlsReport). */
  tlsReport?(): TlsReport | undefined;
  /** Take a renewed certificate or a CA rotation step the leader granted. */
  installTls?(grant: TlsGrant): Promise<void>;
}

export interface AgentOptions {
  readonly node: NodeDescription;
  /** Where allocations keep their records and logs (`<data dir>/alloc`). */
  readonly root: string;
  /** The node's fence file, also given to the driver's task supervisors. */
  readonly fencePath: string;
  readonly driver: TaskDriver;
  readonly link: AgentLink;
  readonly heartbeatMs: number;
  /** How long before the fence expires the agent stops its jobs itself. */
  readonly stopLeadMs: number;
  /** A hardware watchdog fed while the fence holds (watchdog-device.ts); none when null. */
  readonly watchdogDevice: WatchdogDevice | null;
  readonly log: Logger;
}

const watchdogPollMs = 100;
/** A status change is sent this soon instead of with the next regular heartbeat. */
const reportDelayMs = 20;

export class Agent {
  private readonly store: AllocStore;
  private readonly running = new Map<string, AllocRunner>();
  /** Each running allocation's no-quorum policy: the watchdog stops only the `stop` ones. */
  private readonly policies = new Map<string, NoQuorumPolicy>();
  /** Found at start-up and not yet claimed by the cluster's answer: task handle if it still runs. */
  private readonly recovered = new Map<string, { record: AllocRecord; handle: TaskHandle | null }>();
  /** Allocations that ended on this node; never started again. */
  private readonly ended = new Map<string, AllocRecord>();
  /** Status changes not yet answered by the leader. */
  private readonly unsent = new Map<string, AllocStatusReport>();
  private deadline: number;
  private fenced = false;
  private stopped = false;
  private reachable = true;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  /** A round is under way; a status change meanwhile asks for the next one soon after it. */
  private beating = false;
  private beatRequested = false;
  private readonly watchdogTimer: NodeJS.Timeout;
  private logReadersValue: LogReaders = { adminTokenHash: null, tokens: [] };
  private leaderValue: string | null = null;

  private constructor(private readonly options: AgentOptions) {
    this.store = new AllocStore(options.root);
    // A restarted agent inherits the fence its predecessor earned.
    this.deadline = readFence(options.fencePath);
    this.watchdogTimer = setInterval(() => this.watchdog(), watchdogPollMs);
  }

  static async start(options: AgentOptions): Promise<Agent> {
    await mkdir(options.root, { recursive: true, mode: 0o700 });
    const agent = new Agent(options);
    await agent.recover();
    agent.beatSoon(0);
    return agent;
  }

  /** The admin token's hash as the leader last sent it (the log route checks tokens with it). */
  get logReaders(): LogReaders {
    return this.logReadersValue;
  }

  /** The leader that answered the last heartbeat; null before the first answer and while none is answered. */
  get leader(): string | null {
    return this.leaderValue;
  }

  /** Ids of the allocations running here now. */
  runningAllocations(): string[] {
    return [...this.running.keys()];
  }

  /**
   * `detach`: stop heartbeating and leave the tasks to their fence (an agent restart);
   * `stop-jobs`: stop every task first (the node leaves for good).
   */
  async stop(mode: 'detach' | 'stop-jobs'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.watchdogTimer);
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    await this.options.watchdogDevice?.disarm();
    // A heartbeat still in flight is not waited for: its answer is ignored once stopped.
    if (mode === 'detach') {
      for (const runner of this.running.values()) runner.detach();
      return;
    }
    await Promise.all([...this.running.values()].map((runner) => runner.stop()));
    await Promise.all([...this.recovered.values()].map(({ handle }) => (handle === null ? Promise.resolve() : handle.stop(0))));
  }

  private async recover(): Promise<void> {
    for (const record of await this.store.load()) {
      const id = record.allocation.id;
      if (record.report !== null && isEnded(record.report)) {
        this.ended.set(id, record);
        this.unsent.set(id, record.report);
        continue;
      }
      const handle = record.task === null ? null : await this.options.driver.recover(record.task);
      this.recovered.set(id, { record, handle });
      this.options.log.log('info', handle === null ? 'allocation found stopped after an agent restart' : 'allocation re-attached after an agent restart', { allocation: id });
    }
  }

  /**
   * One round at a time: two answers followed at once would both find a new allocation not yet
   * running here and start it twice (and both rounds write the fence's temp file).
   */
  private beatSoon(delayMs: number): void {
    if (this.stopped) return;
    if (this.beating) {
      if (delayMs < this.options.heartbeatMs) this.beatRequested = true;
      return;
    }
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = null;
      this.beating = true;
      void this.beat()
        .catch((error: unknown) => this.options.log.log('warn', 'a heartbeat round failed; retrying', { reason: (error as Error).message }))
        .finally(() => {
          this.beating = false;
          const soon = this.beatRequested;
          this.beatRequested = false;
          this.beatSoon(soon ? reportDelayMs : this.options.heartbeatMs);
        });
    }, delayMs);
  }

  private async beat(): Promise<void> {
    const sentAt = monotonicMs();
    const reports = [...this.unsent.values()];
    let response: HeartbeatResponse;
    try {
      const tls = this.options.link.tlsReport?.();
      response = await this.options.link.heartbeat({ node: this.options.node, freeMemoryMb: Math.floor(freemem() / 2 ** 20), reports, ...(tls === undefined ? {} : { tls }) });
    } catch (error) {
      if (this.reachable) this.options.log.log('warn', 'heartbeat not answered; retrying', { reason: (error as Error).message });
      this.reachable = false;
      this.leaderValue = null;
      return;
    }
    if (this.stopped) return;
    if (!this.reachable) this.options.log.log('info', 'heartbeats answered again', { leader: response.leader });
    this.reachable = true;
    this.leaderValue = response.leader;
    this.logReadersValue = response.logReaders;
    this.options.link.learnServers?.(response.servers);
    if (response.tls !== undefined) await this.installTls(response.tls);
    for (const report of reports) if (this.unsent.get(report.id) === report) this.unsent.delete(report.id);
    const deadline = sentAt + this.options.node.watchdogTimeoutMs;
    if (deadline > this.deadline) {
      try {
        await writeFence(this.options.fencePath, deadline);
        this.deadline = deadline;
      } catch (error) {
        // Without a durable fence the tasks' supervisors would stop them: so does the agent.
        this.options.log.log('error', 'cannot move the fence forward; jobs here will stop', { fence: this.options.fencePath, reason: (error as Error).message });
      }
    }
    if (this.fenced && this.fenceHolds()) {
      this.fenced = false;
      this.options.log.log('info', 'in contact with the leader again: jobs may run here again');
    }
    await this.follow(response);
  }

  private async installTls(grant: TlsGrant): Promise<void> {
    try {
      await this.options.link.installTls?.(grant);
      this.options.log.log('info', grant.issued === undefined ? 'trusting the CAs the leader sent' : 'presenting the certificate the leader issued', { trusted: grant.caPem.split('BEGIN CERTIFICATE').length - 1 });
    } catch (error) {
      // The old certificate still works; the leader grants again with the next heartbeat.
      this.options.log.log('warn', 'could not install the certificate the leader sent', { reason: (error as Error).message });
    }
  }

  /** Make the node run what the cluster wants on it, and nothing else. */
  private async follow(response: HeartbeatResponse): Promise<void> {
    const specs = new Map(response.jobs.map((job) => [job.spec.name, job]));
    const listed = new Set<string>();
    for (const allocation of response.allocations) {
      listed.add(allocation.id);
      const wanted = allocation.desired === 'run' && !isEnded(allocation);
      const current = this.running.get(allocation.id);
      if (current !== undefined) {
        if (!wanted) void current.stop();
        continue;
      }
      if (!wanted && !isEnded(allocation) && !this.ended.has(allocation.id) && !this.recovered.has(allocation.id)) {
        // Told to stop before it ever ran here (a plan replaced it at once): nothing runs, so it
        // has ended. Unreported, it would count as running on this node forever.
        this.report(allocation.id, { status: 'complete', restarts: 0, exitCode: null, message: 'stopped before it started' });
        continue;
      }
      if (!wanted || this.ended.has(allocation.id) || this.fenced || !this.fenceHolds()) continue;
      const found = this.recovered.get(allocation.id);
      this.recovered.delete(allocation.id);
      const job = specs.get(allocation.job);
      const spec = found?.record.spec ?? (job?.version === allocation.version ? job.spec : null);
      if (spec === null) {
        this.report(allocation.id, { status: 'failed', restarts: 0, exitCode: null, message: `version ${allocation.version} of job ${allocation.job} is no longer known here` });
        continue;
      }
      await this.run(allocation, spec, spec.noQuorumPolicy ?? response.noQuorumPolicy, found?.handle ?? null);
    }
    // What the cluster no longer lists: stop it, forget it.
    for (const [id, runner] of this.running) if (!listed.has(id)) void runner.stop();
    // Re-attached tasks the cluster does not want here (any more): stop them; their records go
    // with the ended ones once the cluster forgets the allocation.
    const byId = new Map(response.allocations.map((a) => [a.id, a]));
    for (const [id, { record, handle }] of this.recovered) {
      const allocation = byId.get(id);
      if (allocation !== undefined && allocation.desired === 'run' && !isEnded(allocation)) continue;
      this.recovered.delete(id);
      this.ended.set(id, record);
      if (handle !== null) {
        this.options.log.log('info', 'stopping a re-attached task the cluster no longer wants here', { allocation: id });
        await handle.stop(0);
      }
    }
    for (const id of this.ended.keys()) {
      if (listed.has(id) || this.unsent.has(id)) continue;
      this.ended.delete(id);
      await this.store.remove(id);
    }
  }

  private async run(allocation: Allocation, spec: JobSpec, noQuorumPolicy: NoQuorumPolicy, handle: TaskHandle | null): Promise<void> {
    const id = allocation.id;
    let record: AllocRecord = { allocation, spec, task: handle?.state ?? null, report: null };
    await this.store.save(record);
    const saved = (next: AllocRecord): Promise<void> => {
      record = next;
      return this.store.save(record);
    };
    const runner = new AllocRunner(
      {
        allocation,
        spec,
        noQuorumPolicy,
        driver: this.options.driver,
        nodeAddress: this.options.node.address,
        report: (report) => {
          const full = this.report(id, report);
          if (isEnded(full)) this.ended.set(id, { ...record, report: full });
          void saved({ ...record, report: full }).catch((error: unknown) => this.options.log.log('warn', 'could not record an allocation status', { allocation: id, reason: (error as Error).message }));
        },
        // Without the record a restarted agent cannot re-attach (the fence still stops the task): worth a warning, not the agent.
        remember: (task) =>
          saved({ ...record, task }).catch((error: unknown) => this.options.log.log('warn', 'could not record a running task', { allocation: id, reason: (error as Error).message })),
        // A copy that ends while the node is cut off (freeze keeps the others running) is restarted only once the leader answers again.
        mayStart: () => !this.fenced && this.fenceHolds(),
      },
      handle,
    );
    this.running.set(id, runner);
    this.policies.set(id, noQuorumPolicy);
    this.options.log.log('info', handle === null ? 'allocation starting' : 'allocation re-attached', { allocation: id, job: allocation.job });
    void runner.ended.then(() => {
      if (this.running.get(id) !== runner) return;
      this.running.delete(id);
      this.policies.delete(id);
    });
  }

  private report(id: string, report: AllocReport): AllocStatusReport {
    const full: AllocStatusReport = { id, ...report };
    this.unsent.set(id, full);
    this.beatSoon(reportDelayMs);
    return full;
  }

  private fenceHolds(): boolean {
    return monotonicMs() < this.deadline - this.options.stopLeadMs;
  }

  /**
   * Shortly before the fence expires nobody has vouched for this node lately: stop every job
   * whose no-quorum policy is `stop`; `freeze` and `ignore` jobs keep running (nothing new starts
   * while fenced either way).
   */
  private watchdog(): void {
    if (this.fenceHolds()) {
      // The hardware is fed only while a leader vouches for this node; then it resets a hung one.
      this.options.watchdogDevice?.feed(monotonicMs()).catch((error: unknown) => this.options.log.log('error', 'cannot feed the hardware watchdog', { device: this.options.watchdogDevice?.path, reason: (error as Error).message }));
      return;
    }
    if (this.fenced) return;
    this.fenced = true;
    const stopping = [...this.running].filter(([id]) => this.policies.get(id) === 'stop');
    const kept = this.running.size - stopping.length;
    if (this.running.size > 0) {
      this.options.log.log('warn', 'no heartbeat answered for the watchdog timeout: stopping the jobs with no-quorum policy stop (self-fencing)', { stopping: stopping.length, kept, watchdogTimeoutMs: this.options.node.watchdogTimeoutMs });
    }
    for (const [, runner] of stopping) void runner.stop();
  }
}
