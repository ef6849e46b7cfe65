/**
 * Quorate as a benchmark target: three `quorate server` processes from the build, one per
 * loopback address, each with a static-bootstrap TOML file (seed 002), spoken to through the
 * HTTP API over keep-alive HTTP, like etcd through its JSON gateway. Timings are seed 001's
 * (100 ms heartbeat, 300 ms election timeout), written out so that the bench keeps them if the
 * defaults change; durability is the default: every write is fsynced on a majority before it is
 * acknowledged. The fourth node joins as the README's "Forming and joining" describes: its own
 * entry in initial_cluster says `role = 3, status = 0`, so it asks the founders to add it.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requestJson } from './json-http.js';
import { deriveAdminToken } from '../../src/cluster/admin-token.js';

const clusterSecret = 'quorate-bench-secret-0123456789';
/** The bench acts as the operator: every API call carries the admin token (derived from the secret). */
const adminToken = deriveAdminToken(clusterSecret, 'quorate');
import { LocalCluster, type NodeStatus } from './local-cluster.js';
import type { ClusterTarget, ReadConsistency, TargetOptions } from './target.js';
import type { EtcdGrpcAccess } from './etcd-client.js';
import { retryUntil } from './wait.js';

export const apiPort = 8080;
/** `--client etcd`: the etcd-compatible gRPC API (plain, as the API, with --insecure-api); the admin token is the password. */
export const quorateGrpcAccess: EtcdGrpcAccess = { port: 2379, password: adminToken };
const peerPort = 8081;
/** Longer than the server's request timeout (5 s), so that the server ends a stuck write, not us. */
const requestTimeoutMs = 10_000;
export const statusTimeoutMs = 1_000;
/** A node hands leadership over and closes its files on SIGTERM; then V8 writes the profile. */
const profileStopGraceMs = 10_000;
/** Catching up on the join workload's data (100 MiB by default) takes seconds; this is far beyond. */
const joinTimeoutMs = 300_000;
const heartbeatIntervalMs = 100;
const electionTimeoutMs = 300;
export const cliPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

export function quorateTarget(options: TargetOptions): ClusterTarget {
  return new QuorateCluster(options);
}

/** Exported for a cluster formed another way (bench/agents), which speaks the same API over HTTPS. */
export class QuorateCluster extends LocalCluster {
  readonly name = 'quorate';
  /** How many times each node has been spawned. */
  private readonly starts: number[] = [];

  private readonly profileDir: string | undefined;

  constructor(options: Pick<TargetOptions, 'hosts'> & Partial<Pick<TargetOptions, 'joinHost' | 'profileDir'>>, scheme: 'http' | 'https' = 'http') {
    super(options.hosts, options.joinHost, apiPort, options.profileDir === undefined ? undefined : profileStopGraceMs, scheme);
    this.profileDir = options.profileDir;
  }

  async put(endpointIndex: number, key: string, value: Uint8Array): Promise<void> {
    await this.call(endpointIndex, 'PUT', `/v1/kv/${encodeURIComponent(key)}`, { bytes: value, type: 'application/octet-stream' }, requestTimeoutMs);
  }

  async get(endpointIndex: number, key: string, consistency: ReadConsistency): Promise<void> {
    await this.call(endpointIndex, 'GET', `/v1/kv/${encodeURIComponent(key)}?consistency=${consistency}`, null, requestTimeoutMs);
  }

  /** Timed from the spawn of the new node to the leader listing it as a voter. */
  async join(): Promise<number> {
    const i = this.joinerIndex;
    const started = performance.now();
    await this.spawnNode(i);
    await retryUntil('the joining quorate node is a voter', joinTimeoutMs, async () => {
      await this.throwIfExited(i);
      const json = await this.call(await this.leaderIndex(), 'GET', '/v1/status', null, statusTimeoutMs);
      const members = typeof json === 'object' && json !== null && 'members' in json && Array.isArray(json.members) ? (json.members as unknown[]) : [];
      const joined = members.find((m): m is { voter: unknown } => typeof m === 'object' && m !== null && 'id' in m && m.id === nodeId(i) && 'voter' in m);
      if (joined?.voter !== true) throw new Error(joined === undefined ? 'not a member yet' : 'still a learner');
    });
    return (performance.now() - started) / 1000;
  }

  protected async removeMember(i: number): Promise<void> {
    await this.call(await this.leaderIndex(), 'DELETE', `/v1/cluster/members/${nodeId(i)}`, null, requestTimeoutMs);
  }

  protected dataPath(i: number, dir: string): string {
    return join(dir, 'db', nodeId(i));
  }

  /** Writes the node's TOML file (again on a restart; it does not change) and runs the server on it. */
  protected async command(i: number, dir: string): Promise<{ file: string; args: string[] }> {
    const configPath = join(dir, `n${i + 1}.toml`);
    await writeFile(configPath, this.config(i, dir));
    // One file per process: a node killed in a failover round writes none, its restart its own.
    const starts = (this.starts[i] = (this.starts[i] ?? 0) + 1);
    const profile = this.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${this.profileDir}`, `--cpu-prof-name=n${i + 1}-${starts}.cpuprofile`];
    // Plain HTTP on the API, as the etcd it is compared with serves its clients (the peers keep mutual TLS).
    return { file: process.execPath, args: [...profile, cliPath, 'server', '--config', configPath, '--insecure-api'] };
  }

  protected async status(i: number): Promise<NodeStatus> {
    const json = await this.call(i, 'GET', '/v1/status', null, statusTimeoutMs);
    if (typeof json === 'object' && json !== null && 'id' in json && typeof json.id === 'string' && 'leader' in json) {
      return { id: json.id, leader: typeof json.leader === 'string' ? json.leader : null };
    }
    throw new Error(`unexpected quorate status: ${JSON.stringify(json)}`);
  }

  /** The founders' files list the founders; the joining node's adds itself as a learner to be. */
  private config(i: number, dir: string): string {
    const founders = this.hosts.map((host, j) => `  { id = ${nodeId(j)}, address = "${host}:${peerPort}" },`);
    const joiner = i === this.joinerIndex ? [`  { id = ${nodeId(i)}, address = "${this.host(i)}:${peerPort}", role = 3, status = 0 },`] : [];
    return [
      '[cluster]',
      `node_id = ${nodeId(i)}`,
      `listen_address = "${this.host(i)}:${peerPort}"`,
      `initial_cluster = [\n${[...founders, ...joiner].join('\n')}\n]`,
      `db_root_dir = "${join(dir, 'db')}"`,
      `cluster_secret = "${clusterSecret}"`,
      `heartbeat_interval_ms = ${heartbeatIntervalMs}`,
      `election_timeout_ms = ${electionTimeoutMs}`,
      '',
    ].join('\n');
  }

  protected call(i: number, method: string, path: string, body: { bytes: Uint8Array; type: string } | null, timeoutMs: number): Promise<unknown> {
    const { agent, endpoint } = this.agent(i);
    return requestJson(agent, method, new URL(path, endpoint), body, timeoutMs, adminToken);
  }
}

/** Node i's id in the TOML files and in the API's answers. */
function nodeId(i: number): string {
  return String(i + 1);
}
