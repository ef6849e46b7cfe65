/**
 * etcd 3.4 as a benchmark target: three `etcd` processes, one per loopback address, spoken to
 * through etcd's v3 JSON gateway (grpc-gateway) over keep-alive HTTP, which puts etcd behind the
 * same kind of HTTP/JSON client code as Quorate's API rather than giving it a gRPC advantage.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keepAliveAgent, postJson } from './json-http.js';
import { NodeProcess } from './processes.js';
import type { ClusterTarget, ReadConsistency, TargetOptions } from './target.js';
import { GiveUp, retryUntil } from './wait.js';

const clientPort = 2379;
const peerPort = 2380;
/** Longer than etcd's own request timeout (5 s + 2 election timeouts), so that etcd ends a stuck write, not us. */
const requestTimeoutMs = 10_000;
const statusTimeoutMs = 1_000;
const startTimeoutMs = 30_000;
/**
 * 256 closed-loop clients may all use one endpoint, and during a failover the open-loop writer
 * leaves requests hanging for etcd's 6 s request timeout; queueing behind them in the agent
 * would add the agent's wait to the measured gap.
 */
const socketsPerEndpointMax = 1024;
const logTailBytes = 2_000;

/** True when an `etcd` binary is on the PATH. */
export function etcdInstalled(): boolean {
  return spawnSync('etcd', ['--version'], { stdio: 'ignore' }).error === undefined;
}

export function etcdTarget(options: TargetOptions): ClusterTarget {
  return new EtcdCluster(options.hosts);
}

interface EtcdStatus {
  readonly memberId: string;
  /** '0' while the member knows no leader. */
  readonly leader: string;
}

class EtcdCluster implements ClusterTarget {
  readonly name = 'etcd';
  readonly endpoints: readonly string[];
  private readonly agents: readonly Agent[];
  private readonly processes: (NodeProcess | undefined)[];
  private dir: string | undefined;

  constructor(private readonly hosts: readonly string[]) {
    this.endpoints = hosts.map((host) => `http://${host}:${clientPort}`);
    this.agents = hosts.map(() => keepAliveAgent(socketsPerEndpointMax));
    this.processes = hosts.map(() => undefined);
  }

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'quorate-bench-etcd-'));
    for (let i = 0; i < this.hosts.length; i++) await this.spawnNode(i);
    // Every member must answer, not only a quorum: a node that lost its port to another
    // process would otherwise pass here and stall the first request sent to it.
    await retryUntil('every etcd member answers and one leads', startTimeoutMs, async () => {
      await this.throwIfAnyExited();
      await Promise.all(this.hosts.map((_, i) => this.status(i)));
      return this.leaderIndex();
    });
  }

  async put(endpointIndex: number, key: string, value: Uint8Array): Promise<void> {
    await this.post(endpointIndex, '/v3/kv/put', { key: base64(key), value: Buffer.from(value).toString('base64') }, requestTimeoutMs);
  }

  async get(endpointIndex: number, key: string, consistency: ReadConsistency): Promise<void> {
    await this.post(endpointIndex, '/v3/kv/range', { key: base64(key), serializable: consistency === 'serializable' }, requestTimeoutMs);
  }

  async leaderIndex(): Promise<number> {
    const answers = await Promise.allSettled(this.hosts.map((_, i) => this.status(i)));
    const statuses = answers.map((a) => (a.status === 'fulfilled' ? a.value : undefined));
    const leaders = new Set(statuses.flatMap((s) => (s === undefined ? [] : [s.leader])));
    const [leader] = leaders;
    if (leaders.size !== 1 || leader === undefined) throw new Error(`etcd members disagree on the leader or none answered: ${[...leaders].join(', ')}`);
    if (leader === '0') throw new Error('no etcd member knows a leader');
    const index = statuses.findIndex((s) => s?.memberId === leader);
    if (index < 0) throw new Error(`etcd leader ${leader} is not among the members that answered`);
    return index;
  }

  async kill(nodeIndex: number): Promise<void> {
    await this.processes[nodeIndex]?.kill();
  }

  async restart(nodeIndex: number): Promise<void> {
    if (this.processes[nodeIndex]?.alive === true) throw new Error(`etcd node ${nodeIndex} is still running`);
    await this.spawnNode(nodeIndex);
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.flatMap((p) => (p === undefined ? [] : [p.kill()])));
    for (const agent of this.agents) agent.destroy();
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private async spawnNode(i: number): Promise<void> {
    const dir = this.requireDir();
    this.processes[i] = await NodeProcess.spawn('etcd', this.args(i, dir), join(dir, `${nodeName(i)}.log`));
  }

  private args(i: number, dir: string): string[] {
    const host = this.hosts[i] ?? '';
    const clientUrl = `http://${host}:${clientPort}`;
    const peerUrl = `http://${host}:${peerPort}`;
    const cluster = this.hosts.map((h, j) => `${nodeName(j)}=http://${h}:${peerPort}`).join(',');
    return [
      ...['--name', nodeName(i), '--data-dir', join(dir, nodeName(i))],
      ...['--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl],
      ...['--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl],
      ...['--initial-cluster', cluster, '--initial-cluster-state', 'new', '--initial-cluster-token', 'quorate-bench'],
      // Close to seed 001's timings (100 ms heartbeat, 300 ms election) for a like-for-like
      // failover; etcd refuses an election timeout under 5 heartbeats, hence 500 ms.
      ...['--heartbeat-interval', '100', '--election-timeout', '500', '--pre-vote'],
      // Warnings and errors only: etcd's info lines would add log I/O that Quorate does not do.
      ...['--logger', 'zap', '--log-level', 'warn'],
    ];
  }

  private async status(i: number): Promise<EtcdStatus> {
    return parseStatus(await this.post(i, '/v3/maintenance/status', {}, statusTimeoutMs));
  }

  private post(i: number, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const agent = this.agents[i];
    const endpoint = this.endpoints[i];
    if (agent === undefined || endpoint === undefined) throw new RangeError(`no etcd endpoint ${i}`);
    return postJson(agent, new URL(path, endpoint), body, timeoutMs);
  }

  /** A node that died during start will not come back by waiting; say why with its log. */
  private async throwIfAnyExited(): Promise<void> {
    const i = this.processes.findIndex((p) => p?.alive === false);
    if (i < 0) return;
    const log = await readFile(join(this.requireDir(), `${nodeName(i)}.log`), 'utf8').catch(() => '');
    throw new GiveUp(`etcd node ${i} exited during start; its log ends with:\n${log.slice(-logTailBytes)}`);
  }

  private requireDir(): string {
    if (this.dir === undefined) throw new Error('etcd target not started');
    return this.dir;
  }
}

function nodeName(i: number): string {
  return `n${i + 1}`;
}

function base64(text: string): string {
  return Buffer.from(text).toString('base64');
}

/**
 * Member ids are uint64, which the gateway writes as decimal strings; it omits fields holding
 * their zero value, so a member that knows no leader has no `leader` at all.
 */
function parseStatus(json: unknown): EtcdStatus {
  if (typeof json === 'object' && json !== null && 'header' in json) {
    const { header } = json;
    const leader = 'leader' in json && typeof json.leader === 'string' ? json.leader : '0';
    if (typeof header === 'object' && header !== null && 'member_id' in header && typeof header.member_id === 'string') {
      return { memberId: header.member_id, leader };
    }
  }
  throw new Error(`unexpected etcd status: ${JSON.stringify(json)}`);
}
