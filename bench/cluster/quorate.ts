/**
 * Quorate as a benchmark target: three `quorate server` processes from the build, one per
 * loopback address, each with a static-bootstrap TOML file (seed 002), spoken to through the
 * HTTP API over keep-alive HTTP, like etcd through its JSON gateway. Timings are the defaults
 * (100 ms heartbeat, 300 ms election timeout), durability is the default: every write is
 * fsynced on a majority before it is acknowledged.
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

export const apiPort = 8080;
/** `--client etcd`: the etcd-compatible gRPC API (plain, as the API, with --insecure-api); the admin token is the password. */
export const quorateGrpcAccess: EtcdGrpcAccess = { port: 2379, password: adminToken };
const peerPort = 8081;
/** Longer than the server's request timeout (5 s), so that the server ends a stuck write, not us. */
const requestTimeoutMs = 10_000;
export const statusTimeoutMs = 1_000;
/** A node hands leadership over and closes its files on SIGTERM; then V8 writes the profile. */
const profileStopGraceMs = 10_000;
export const cliPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

export function quorateTarget(options: TargetOptions): ClusterTarget {
  return new QuorateCluster(options.hosts, options.profileDir);
}

/** Exported for a cluster formed another way (bench/agents), which speaks the same API over HTTPS. */
export class QuorateCluster extends LocalCluster {
  readonly name = 'quorate';
  /** How many times each node has been spawned. */
  private readonly starts: number[] = [];

  constructor(
    hosts: readonly string[],
    private readonly profileDir: string | undefined,
    scheme: 'http' | 'https' = 'http',
  ) {
    super(hosts, apiPort, profileDir === undefined ? undefined : profileStopGraceMs, scheme);
  }

  async put(endpointIndex: number, key: string, value: Uint8Array): Promise<void> {
    await this.call(endpointIndex, 'PUT', `/v1/kv/${encodeURIComponent(key)}`, { bytes: value, type: 'application/octet-stream' }, requestTimeoutMs);
  }

  async get(endpointIndex: number, key: string, consistency: ReadConsistency): Promise<void> {
    await this.call(endpointIndex, 'GET', `/v1/kv/${encodeURIComponent(key)}?consistency=${consistency}`, null, requestTimeoutMs);
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

  private config(i: number, dir: string): string {
    const members = this.hosts.map((host, j) => `  { id = ${j + 1}, address = "${host}:${peerPort}" },`).join('\n');
    return [
      '[cluster]',
      `node_id = ${i + 1}`,
      `listen_address = "${this.hosts[i] ?? ''}:${peerPort}"`,
      `initial_cluster = [\n${members}\n]`,
      `db_root_dir = "${join(dir, 'db')}"`,
      `cluster_secret = "${clusterSecret}"`,
      '',
    ].join('\n');
  }

  protected call(i: number, method: string, path: string, body: { bytes: Uint8Array; type: string } | null, timeoutMs: number): Promise<unknown> {
    const { agent, endpoint } = this.agent(i);
    return requestJson(agent, method, new URL(path, endpoint), body, timeoutMs, adminToken);
  }
}
