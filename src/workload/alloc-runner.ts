/**
 * Runs one allocation on its node: starts the task through the driver, restarts it by the
 * job's policy (at most `attempts` restarts within `window`, `delay` apart; then the copy has
 * failed and the scheduler places a new one), checks its health, stops it when told, and
 * reports every status change. "running" means started and, with a health check, healthy once.
 *
 * The task sees the job's env plus: PATH from the agent, QUORATE_JOB, QUORATE_ALLOC_ID,
 * QUORATE_ALLOC_INDEX, QUORATE_NODE_ADDRESS and QUORATE_PORT_<NAME> for each of its ports.
 */
import { execFile } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Allocation, AllocationStatus, JobSpec, NoQuorumPolicy } from '../state/index.js';
import type { TaskDriver, TaskExit, TaskHandle, TaskState } from './driver.js';

export interface AllocReport {
  readonly status: AllocationStatus;
  readonly restarts: number;
  readonly exitCode: number | null;
  readonly message: string;
}

export interface AllocRunnerOptions {
  readonly allocation: Allocation;
  readonly spec: JobSpec;
  /** The job's no-quorum policy, or the cluster's when it names none: only `stop` tasks self-fence. */
  readonly noQuorumPolicy: NoQuorumPolicy;
  readonly driver: TaskDriver;
  /** The node's advertise address, where its jobs' ports are reached. */
  readonly nodeAddress: string;
  readonly report: (report: AllocReport) => void;
  /** Remember (or forget, with null) the running task, for re-attaching after an agent restart. */
  readonly remember: (state: TaskState | null) => Promise<void>;
  /**
   * Whether a task may start now: false while the node is cut off from the leader. A task that
   * ends then is restarted only once this holds again (nothing new starts on a node without
   * quorum, restarts included). Always, when not given.
   */
  readonly mayStart?: () => boolean;
}

/** How often a restart that waits for contact with the leader checks again. */
const startPollMs = 100;

export class AllocRunner {
  private handle: TaskHandle | null = null;
  private stopping = false;
  private detached = false;
  private restarts = 0;
  private readonly restartTimes: number[] = [];
  private readonly done: Promise<void>;

  /** Starts the task, or takes over `recovered` (found again after an agent restart). */
  constructor(
    private readonly options: AllocRunnerOptions,
    recovered: TaskHandle | null = null,
  ) {
    this.done = this.run(recovered);
  }

  get id(): string {
    return this.options.allocation.id;
  }

  /** Stops the task (SIGTERM, then SIGKILL after the job's stop_grace) and reports it complete. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.handle?.stop(this.options.spec.stopGraceMs);
    await this.done;
  }

  /**
   * Stops supervising and leaves the task running (the agent is shutting down to restart; the
   * next one takes the task over from the remembered state). Nothing more is reported.
   */
  detach(): void {
    this.detached = true;
  }

  /** Resolves when the allocation has ended: stopped, failed for good, or completed. */
  get ended(): Promise<void> {
    return this.done;
  }

  private async run(recovered: TaskHandle | null): Promise<void> {
    let handle = recovered;
    for (;;) {
      if (handle === null) {
        try {
          handle = await this.options.driver.start({ id: this.id, command: this.options.spec.command, args: this.options.spec.args, env: this.env(), workdir: this.options.spec.workdir, selfFence: this.options.noQuorumPolicy === 'stop' });
        } catch (error) {
          this.report('failed', null, (error as Error).message);
          return;
        }
      }
      this.handle = handle;
      // A stop that came while the task was starting found no handle to stop.
      if (this.stopping) void handle.stop(this.options.spec.stopGraceMs);
      await this.options.remember(handle.state);
      void this.healthy(handle).then((ok) => {
        if (ok && this.handle === handle && !this.stopping) this.report('running', null, '');
      });
      const exit = await handle.exited;
      if (this.detached) return;
      this.handle = null;
      handle = null;
      await this.options.remember(null);
      if (this.stopping) {
        this.report('complete', exit.code, 'stopped');
        return;
      }
      const next = this.afterExit(exit);
      if (next !== 'restart') return;
      await sleep(this.options.spec.restart.delayMs);
      while (this.waitingForContact()) await sleep(startPollMs);
      // Detached meanwhile (the agent is restarting): the next agent decides; nothing starts here.
      if (this.detachRequested()) return;
      if (this.stopRequested()) {
        this.report('complete', exit.code, 'stopped');
        return;
      }
    }
  }

  /** Reports how the task ended; 'restart' when the policy allows another run. */
  private afterExit(exit: TaskExit): 'restart' | 'ended' {
    const { policy, attempts, windowMs } = this.options.spec.restart;
    const how = exit.signal !== null ? `killed by ${exit.signal}` : exit.code === null ? 'ended while the agent was away' : `exited with ${exit.code}`;
    const clean = exit.code === 0;
    if (policy === 'never' || (policy === 'on-failure' && clean)) {
      this.report(clean ? 'complete' : 'failed', exit.code, how);
      return 'ended';
    }
    const now = Date.now();
    while (this.restartTimes.length > 0 && (this.restartTimes[0] ?? 0) < now - windowMs) this.restartTimes.shift();
    if (this.restartTimes.length >= attempts) {
      this.report('failed', exit.code, `${how}; ${attempts} restarts within ${windowMs / 1000} s used up`);
      return 'ended';
    }
    this.restartTimes.push(now);
    this.restarts++;
    this.report('pending', exit.code, `${how}; restarting`);
    return 'restart';
  }

  /** A method, not the field: stop() may have been called during any await. */
  private stopRequested(): boolean {
    return this.stopping;
  }

  private detachRequested(): boolean {
    return this.detached;
  }

  /** A restart is due but the node may not start anything now (and nobody stopped or detached the runner). */
  private waitingForContact(): boolean {
    return !this.stopping && !this.detached && !(this.options.mayStart?.() ?? true);
  }

  private report(status: AllocationStatus, exitCode: number | null, message: string): void {
    if (this.detached) return;
    this.options.report({ status, restarts: this.restarts, exitCode, message });
  }

  private env(): Record<string, string> {
    const { allocation, spec, nodeAddress } = this.options;
    const ports = Object.fromEntries(Object.entries(allocation.ports).map(([name, port]) => [`QUORATE_PORT_${name.toUpperCase()}`, String(port)]));
    return {
      ...(process.env.PATH === undefined ? {} : { PATH: process.env.PATH }),
      ...spec.env,
      QUORATE_JOB: spec.name,
      QUORATE_ALLOC_ID: allocation.id,
      QUORATE_ALLOC_INDEX: String(allocation.index),
      QUORATE_NODE_ADDRESS: nodeAddress,
      ...ports,
    };
  }

  /** Without a check, healthy at once; with one, when it first passes (false if the task ends first). */
  private async healthy(handle: TaskHandle): Promise<boolean> {
    const check = this.options.spec.health;
    if (check === null) return true;
    const task = { ended: false };
    void handle.exited.then(() => (task.ended = true));
    while (!task.ended && !this.stopRequested()) {
      if (await this.probe(check)) return !task.ended;
      await sleep(check.intervalMs);
    }
    return false;
  }

  private probe(check: NonNullable<JobSpec['health']>): Promise<boolean> {
    if (check.kind === 'http') {
      const port = this.options.allocation.ports[check.port];
      return httpProbe(this.options.nodeAddress, port ?? 0, check.path, check.timeoutMs);
    }
    const [command = '', ...args] = check.command;
    return new Promise((resolve) => execFile(command, args, { timeout: check.timeoutMs, env: this.env() }, (error) => resolve(error === null)));
  }
}

/**
 * One GET without keep-alive: a pooled connection (fetch keeps them for seconds) would hold the
 * agent's process open after it is told to stop, delaying a restart past the jobs' fence.
 */
function httpProbe(host: string, port: number, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = httpGet({ host, port, path, agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      resolve((response.statusCode ?? 0) >= 200 && (response.statusCode ?? 0) < 300);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}
