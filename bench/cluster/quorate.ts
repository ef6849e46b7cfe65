/**
 * Quorate as a benchmark target: three `quorate server` processes from the build, one per
 * loopback address, each with a static-bootstrap TOML file (seed 002), spoken to through the
 * HTTP API over keep-alive HTTP, like etcd through its JSON gateway. Timings are the defaults
 * (100 ms heartbeat, 300 ms election timeout), durability is the default: every write is
 * fsynced on a majority before it is acknowledged.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keepAliveAgent, requestJson } from './json-http.js';
import { NodeProcess } from './processes.js';
import type { ClusterTarget, ReadConsistency, TargetOptions } from './target.js';
import { GiveUp, retryUntil } from './wait.js';

const apiPort = 8080;
const peerPort = 8081;
/** Longer than the server's request timeout (5 s), so that the server ends a stuck write, not us. */
const requestTimeoutMs = 10_000;
const statusTimeoutMs = 1_000;
const startTimeoutMs = 30_000;
/** As for etcd: hung writes during a failover must not queue new ones in the agent. */
const socketsPerEndpointMax = 1024;
const logTailBytes = 2_000;
const cliPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

export function quorateTarget(options: TargetOptions): ClusterTarget {
  return new QuorateCluster(options.hosts);
}

class QuorateCluster implements ClusterTarget {
  readonly name = 'quorate';
  readonly endpoints: readonly string[];
  private readonly agents: readonly Agent[];
  private readonly processes: (NodeProcess | undefined)[];
  private dir: string | undefined;

  constructor(private readonly hosts: readonly string[]) {
    this.endpoints = hosts.map((host) => `http://${host}:${apiPort}`);
    this.agents = hosts.map(() => keepAliveAgent(socketsPerEndpointMax));
    this.processes = hosts.map(() => undefined);
  }

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'quorate-bench-quorate-'));
    for (let i = 0; i < this.hosts.length; i++) await writeFile(this.configPath(i), this.config(i));
    for (let i = 0; i < this.hosts.length; i++) await this.spawnNode(i);
    await retryUntil('every quorate node answers and one leads', startTimeoutMs, async () => {
      await this.throwIfAnyExited();
      await Promise.all(this.hosts.map((_, i) => this.status(i)));
      return this.leaderIndex();
    });
  }

  async put(endpointIndex: number, key: string, value: Uint8Array): Promise<void> {
    await this.call(endpointIndex, 'PUT', `/v1/kv/${encodeURIComponent(key)}`, { bytes: value, type: 'application/octet-stream' }, requestTimeoutMs);
  }

  async get(endpointIndex: number, key: string, consistency: ReadConsistency): Promise<void> {
    await this.call(endpointIndex, 'GET', `/v1/kv/${encodeURIComponent(key)}?consistency=${consistency}`, null, requestTimeoutMs);
  }

  async leaderIndex(): Promise<number> {
    const answers = await Promise.allSettled(this.hosts.map((_, i) => this.status(i)));
    const statuses = answers.map((a) => (a.status === 'fulfilled' ? a.value : undefined));
    const leaders = new Set(statuses.flatMap((s) => (s === undefined ? [] : [s.leader])));
    const [leader] = leaders;
    if (leaders.size !== 1 || leader === undefined || leader === null) throw new Error(`quorate nodes disagree on the leader or know none: ${[...leaders].join(', ')}`);
    const index = statuses.findIndex((s) => s?.id === leader);
    if (index < 0) throw new Error(`quorate leader ${leader} is not among the nodes that answered`);
    return index;
  }

  async kill(nodeIndex: number): Promise<void> {
    await this.processes[nodeIndex]?.kill();
  }

  async restart(nodeIndex: number): Promise<void> {
    if (this.processes[nodeIndex]?.alive === true) throw new Error(`quorate node ${nodeIndex} is still running`);
    await this.spawnNode(nodeIndex);
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.flatMap((p) => (p === undefined ? [] : [p.kill()])));
    for (const agent of this.agents) agent.destroy();
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private config(i: number): string {
    const members = this.hosts.map((host, j) => `  { id = ${j + 1}, address = "${host}:${peerPort}" },`).join('\n');
    return [
      '[cluster]',
      `node_id = ${i + 1}`,
      `listen_address = "${this.hosts[i] ?? ''}:${peerPort}"`,
      `initial_cluster = [\n${members}\n]`,
      `db_root_dir = "${join(this.requireDir(), 'db')}"`,
      'cluster_secret = "quorate-bench-secret-0123456789"',
      '',
    ].join('\n');
  }

  private configPath(i: number): string {
    return join(this.requireDir(), `n${i + 1}.toml`);
  }

  private async spawnNode(i: number): Promise<void> {
    this.processes[i] = await NodeProcess.spawn(process.execPath, [cliPath, 'server', '--config', this.configPath(i)], join(this.requireDir(), `n${i + 1}.log`));
  }

  private async status(i: number): Promise<{ id: string; leader: string | null }> {
    const json = await this.call(i, 'GET', '/v1/status', null, statusTimeoutMs);
    if (typeof json === 'object' && json !== null && 'id' in json && typeof json.id === 'string' && 'leader' in json) {
      return { id: json.id, leader: typeof json.leader === 'string' ? json.leader : null };
    }
    throw new Error(`unexpected quorate status: ${JSON.stringify(json)}`);
  }

  private call(i: number, method: string, path: string, body: { bytes: Uint8Array; type: string } | null, timeoutMs: number): Promise<unknown> {
    const agent = this.agents[i];
    const endpoint = this.endpoints[i];
    if (agent === undefined || endpoint === undefined) throw new RangeError(`no quorate endpoint ${i}`);
    return requestJson(agent, method, new URL(path, endpoint), body, timeoutMs);
  }

  private async throwIfAnyExited(): Promise<void> {
    const i = this.processes.findIndex((p) => p?.alive === false);
    if (i < 0) return;
    const log = await readFile(join(this.requireDir(), `n${i + 1}.log`), 'utf8').catch(() => '');
    throw new GiveUp(`quorate node ${i} exited during start; its log ends with:\n${log.slice(-logTailBytes)}`);
  }

  private requireDir(): string {
    if (this.dir === undefined) throw new Error('quorate target not started');
    return this.dir;
  }
}
