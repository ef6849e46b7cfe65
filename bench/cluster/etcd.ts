/**
 * etcd 3.4 as a benchmark target: three `etcd` processes, one per loopback address, spoken to
 * through etcd's v3 JSON gateway (grpc-gateway) over keep-alive HTTP, which puts etcd behind the
 * same kind of HTTP/JSON client code as Quorate's API rather than giving it a gRPC advantage.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { EtcdGrpcAccess } from './etcd-client.js';
import { postJson } from './json-http.js';
import { LocalCluster, type NodeStatus } from './local-cluster.js';
import type { ClusterTarget, ReadConsistency, TargetOptions } from './target.js';

const clientPort = 2379;
const peerPort = 2380;
/** Longer than etcd's own request timeout (5 s + 2 election timeouts), so that etcd ends a stuck write, not us. */
const requestTimeoutMs = 10_000;
const statusTimeoutMs = 1_000;

/** `--client etcd`: the gRPC API is the client port itself, without auth (etcd's default). */
export const etcdGrpcAccess: EtcdGrpcAccess = { port: clientPort, password: null };

/** True when an `etcd` binary is on the PATH. */
export function etcdInstalled(): boolean {
  return spawnSync('etcd', ['--version'], { stdio: 'ignore' }).error === undefined;
}

export function etcdTarget(options: TargetOptions): ClusterTarget {
  return new EtcdCluster(options.hosts);
}

class EtcdCluster extends LocalCluster {
  readonly name = 'etcd';

  constructor(hosts: readonly string[]) {
    super(hosts, clientPort);
  }

  async put(endpointIndex: number, key: string, value: Uint8Array): Promise<void> {
    await this.post(endpointIndex, '/v3/kv/put', { key: base64(key), value: Buffer.from(value).toString('base64') }, requestTimeoutMs);
  }

  async get(endpointIndex: number, key: string, consistency: ReadConsistency): Promise<void> {
    await this.post(endpointIndex, '/v3/kv/range', { key: base64(key), serializable: consistency === 'serializable' }, requestTimeoutMs);
  }

  protected command(i: number, dir: string): Promise<{ file: string; args: string[] }> {
    const host = this.hosts[i] ?? '';
    const clientUrl = `http://${host}:${clientPort}`;
    const peerUrl = `http://${host}:${peerPort}`;
    const cluster = this.hosts.map((h, j) => `${nodeName(j)}=http://${h}:${peerPort}`).join(',');
    const args = [
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
    return Promise.resolve({ file: 'etcd', args });
  }

  protected async status(i: number): Promise<NodeStatus> {
    return parseStatus(await this.post(i, '/v3/maintenance/status', {}, statusTimeoutMs));
  }

  private post(i: number, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const { agent, endpoint } = this.agent(i);
    return postJson(agent, new URL(path, endpoint), body, timeoutMs);
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
function parseStatus(json: unknown): NodeStatus {
  if (typeof json === 'object' && json !== null && 'header' in json) {
    const { header } = json;
    const leader = 'leader' in json && typeof json.leader === 'string' ? json.leader : '0';
    if (typeof header === 'object' && header !== null && 'member_id' in header && typeof header.member_id === 'string') {
      return { id: header.member_id, leader: leader === '0' ? null : leader };
    }
  }
  throw new Error(`unexpected etcd status: ${JSON.stringify(json)}`);
}
