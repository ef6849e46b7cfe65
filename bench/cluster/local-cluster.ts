/**
 * What every benchmark target shares: one process per loopback address, a temp directory for
 * data and logs, a keep-alive agent per endpoint, and the leader found by asking every node.
 * A target says how to spawn a node, how to ask one for its status, how to send requests, and
 * how a fourth node (index hosts.length, on joinHost) joins and leaves.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepAliveAgent } from './json-http.js';
import { NodeProcess } from './processes.js';
import type { ClusterTarget, ReadConsistency } from './target.js';
import { GiveUp, retryUntil } from './wait.js';

/**
 * 256 closed-loop clients may all use one endpoint, and during a failover the open-loop writer
 * leaves requests hanging until the server's request timeout; queueing behind them in the agent
 * would add the agent's wait to the measured gap.
 */
const socketsPerEndpointMax = 1024;
const startTimeoutMs = 30_000;
const logTailBytes = 2_000;

/** A node's answer to a status request: its id and the leader it knows (null for none). */
export interface NodeStatus {
  readonly id: string;
  readonly leader: string | null;
}

export abstract class LocalCluster implements ClusterTarget {
  abstract readonly name: string;
  readonly endpoints: readonly string[];
  /** Made on first use: an HTTPS target's CA may only exist once start() has created it. */
  private readonly agents: (Agent | undefined)[];
  private readonly processes: (NodeProcess | undefined)[];
  private dir: string | undefined;

  constructor(
    protected readonly hosts: readonly string[],
    /** Where join() starts the fourth node; undefined for a target that never joins one. */
    private readonly joinHost: string | undefined,
    clientPort: number,
    /** When set, stop() SIGTERMs the nodes and waits this long before SIGKILL (to let them write profiles). */
    private readonly stopGraceMs?: number,
    scheme: 'http' | 'https' = 'http',
  ) {
    this.endpoints = hosts.map((host) => `${scheme}://${host}:${clientPort}`);
    this.agents = hosts.map(() => undefined);
    this.processes = [...hosts, joinHost].map(() => undefined);
  }

  abstract put(endpointIndex: number, key: string, value: Uint8Array): Promise<void>;
  abstract get(endpointIndex: number, key: string, consistency: ReadConsistency): Promise<void>;
  /** The command line of node i, whose files go into `dir`. */
  protected abstract command(i: number, dir: string): Promise<{ readonly file: string; readonly args: readonly string[] }>;
  protected abstract status(i: number): Promise<NodeStatus>;
  abstract join(): Promise<number>;
  /** Takes node i out of the cluster's membership (not its process: removeJoined stops that). */
  protected abstract removeMember(i: number): Promise<void>;
  /** Where node i keeps its data inside `dir`, deleted when it leaves so that it joins afresh. */
  protected abstract dataPath(i: number, dir: string): string;

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), `quorate-bench-${this.name}-`));
    for (let i = 0; i < this.hosts.length; i++) await this.spawnNode(i);
    await this.waitReady();
  }

  async flushProfiles(): Promise<void> {
    if (this.stopGraceMs === undefined) return;
    await Promise.all(this.hosts.map((_, i) => this.halt(i)));
    for (let i = 0; i < this.hosts.length; i++) await this.spawnNode(i);
    await this.waitReady();
  }

  async removeJoined(): Promise<void> {
    const i = this.joinerIndex;
    await this.removeMember(i);
    await this.halt(i);
    await rm(this.dataPath(i, this.requireDir()), { recursive: true, force: true });
  }

  async pids(): Promise<readonly number[]> {
    return Promise.resolve(
      this.hosts.map((_, i) => {
        const pid = this.processes[i]?.pid;
        if (pid === undefined) throw new Error(`${this.name} node ${i} is not running`);
        return pid;
      }),
    );
  }

  async leaderIndex(): Promise<number> {
    const answers = await Promise.allSettled(this.hosts.map((_, i) => this.status(i)));
    const statuses = answers.map((a) => (a.status === 'fulfilled' ? a.value : undefined));
    const leaders = new Set(statuses.flatMap((s) => (s === undefined ? [] : [s.leader])));
    const [leader] = leaders;
    if (leaders.size !== 1 || leader === undefined || leader === null) throw new Error(`${this.name} nodes disagree on the leader or know none: ${[...leaders].join(', ')}`);
    const index = statuses.findIndex((s) => s?.id === leader);
    if (index < 0) throw new Error(`${this.name} leader ${leader} is not among the nodes that answered`);
    return index;
  }

  async kill(nodeIndex: number): Promise<void> {
    await this.processes[nodeIndex]?.kill();
  }

  async restart(nodeIndex: number): Promise<void> {
    if (this.processes[nodeIndex]?.alive === true) throw new Error(`${this.name} node ${nodeIndex} is still running`);
    await this.spawnNode(nodeIndex);
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((_, i) => this.halt(i)));
    for (const agent of this.agents) agent?.destroy();
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  protected agent(i: number): { readonly agent: Agent; readonly endpoint: string } {
    const endpoint = this.endpoints[i];
    if (endpoint === undefined) throw new RangeError(`no ${this.name} endpoint ${i}`);
    const agent = (this.agents[i] ??= keepAliveAgent(socketsPerEndpointMax, this.trustedCa()));
    return { agent, endpoint };
  }

  /** The index of the node join() adds, after the founders'. */
  protected get joinerIndex(): number {
    return this.hosts.length;
  }

  /** The address of node i, the joining node's included. */
  protected host(i: number): string {
    const host = i === this.joinerIndex ? this.joinHost : this.hosts[i];
    if (host === undefined) throw new RangeError(`${this.name} has no node ${i}`);
    return host;
  }

  protected async spawnNode(i: number): Promise<void> {
    const dir = this.requireDir();
    const { file, args } = await this.command(i, dir);
    this.processes[i] = await NodeProcess.spawn(file, args, join(dir, `n${i + 1}.log`));
  }

  /** For HTTPS endpoints: the CA their certificates chain to, asked for on the first request to each. */
  protected trustedCa(): string | undefined {
    return undefined;
  }

  /**
   * Every node must answer, not only a quorum: a node that lost its port to another process
   * would otherwise pass here and stall the first request sent to it.
   */
  private async waitReady(): Promise<void> {
    await retryUntil(`every ${this.name} node answers and one leads`, startTimeoutMs, async () => {
      for (let i = 0; i < this.hosts.length; i++) await this.throwIfExited(i);
      await Promise.all(this.hosts.map((_, i) => this.status(i)));
      return this.leaderIndex();
    });
  }

  /** Stops node i if it runs: gracefully when profiling, so that it writes its profile, else with SIGKILL. */
  private async halt(i: number): Promise<void> {
    const node = this.processes[i];
    if (node === undefined) return;
    await (this.stopGraceMs === undefined ? node.kill() : node.terminate(this.stopGraceMs));
  }

  /** A node that died while it should be coming up will not come back by waiting; say why with its log. */
  protected async throwIfExited(i: number): Promise<void> {
    if (this.processes[i]?.alive !== false) return;
    const log = await readFile(join(this.requireDir(), `n${i + 1}.log`), 'utf8').catch(() => '');
    throw new GiveUp(`${this.name} node ${i} exited; its log ends with:\n${log.slice(-logTailBytes)}`);
  }

  private requireDir(): string {
    if (this.dir === undefined) throw new Error(`${this.name} target not started`);
    return this.dir;
  }
}
