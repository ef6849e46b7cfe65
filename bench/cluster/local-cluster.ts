/**
 * What every benchmark target shares: one process per loopback address, a temp directory for
 * data and logs, a keep-alive agent per endpoint, and the leader found by asking every node.
 * A target says how to spawn a node, how to ask one for its status, and how to send requests.
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
    clientPort: number,
    /** When set, stop() SIGTERMs the nodes and waits this long before SIGKILL (to let them write profiles). */
    private readonly stopGraceMs?: number,
    scheme: 'http' | 'https' = 'http',
  ) {
    this.endpoints = hosts.map((host) => `${scheme}://${host}:${clientPort}`);
    this.agents = hosts.map(() => undefined);
    this.processes = hosts.map(() => undefined);
  }

  abstract put(endpointIndex: number, key: string, value: Uint8Array): Promise<void>;
  abstract get(endpointIndex: number, key: string, consistency: ReadConsistency): Promise<void>;
  /** The command line of node i, whose files go into `dir`. */
  protected abstract command(i: number, dir: string): Promise<{ readonly file: string; readonly args: readonly string[] }>;
  protected abstract status(i: number): Promise<NodeStatus>;

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), `quorate-bench-${this.name}-`));
    for (let i = 0; i < this.hosts.length; i++) await this.spawnNode(i);
    // Every node must answer, not only a quorum: a node that lost its port to another process
    // would otherwise pass here and stall the first request sent to it.
    await retryUntil(`every ${this.name} node answers and one leads`, startTimeoutMs, async () => {
      await this.throwIfAnyExited();
      await Promise.all(this.hosts.map((_, i) => this.status(i)));
      return this.leaderIndex();
    });
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
    const grace = this.stopGraceMs;
    await Promise.all(this.processes.flatMap((p) => (p === undefined ? [] : [grace === undefined ? p.kill() : p.terminate(grace)])));
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

  /** For HTTPS endpoints: the CA their certificates chain to, asked for on the first request to each. */
  protected trustedCa(): string | undefined {
    return undefined;
  }

  private async spawnNode(i: number): Promise<void> {
    const dir = this.requireDir();
    const { file, args } = await this.command(i, dir);
    this.processes[i] = await NodeProcess.spawn(file, args, join(dir, `n${i + 1}.log`));
  }

  /** A node that died during start will not come back by waiting; say why with its log. */
  private async throwIfAnyExited(): Promise<void> {
    const i = this.processes.findIndex((p) => p?.alive === false);
    if (i < 0) return;
    const log = await readFile(join(this.requireDir(), `n${i + 1}.log`), 'utf8').catch(() => '');
    throw new GiveUp(`${this.name} node ${i} exited during start; its log ends with:\n${log.slice(-logTailBytes)}`);
  }

  private requireDir(): string {
    if (this.dir === undefined) throw new Error(`${this.name} target not started`);
    return this.dir;
  }
}
