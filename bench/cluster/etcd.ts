/**
 * etcd 3.4 as a benchmark target: three `etcd` processes, one per loopback address, spoken to
 * through etcd's v3 JSON gateway (grpc-gateway) over keep-alive HTTP, which puts etcd behind the
 * same kind of HTTP/JSON client code as Quorate's API rather than giving it a gRPC advantage.
 * The peers use mutual TLS like Quorate's (etcd-tls.ts) unless the options turn it off. A fourth
 * node joins as etcd's runtime reconfiguration guide says: `member add --learner`, start it
 * with `--initial-cluster-state existing`, `member promote` once it is in sync.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { EtcdGrpcAccess } from './etcd-client.js';
import { writePeerCerts } from './etcd-tls.js';
import { postJson } from './json-http.js';
import { LocalCluster, type NodeStatus } from './local-cluster.js';
import type { ClusterTarget, ReadConsistency, TargetOptions } from './target.js';
import { retryUntil } from './wait.js';

const clientPort = 2379;
const peerPort = 2380;
/** Longer than etcd's own request timeout (5 s + 2 election timeouts), so that etcd ends a stuck write, not us. */
const requestTimeoutMs = 10_000;
const statusTimeoutMs = 1_000;
/** Catching up on the join workload's data (100 MiB by default) takes seconds; this is far beyond. */
const joinTimeoutMs = 300_000;

/** `--client etcd`: the gRPC API is the client port itself, without auth (etcd's default). */
export const etcdGrpcAccess: EtcdGrpcAccess = { port: clientPort, password: null };

/** True when an `etcd` binary is on the PATH. */
export function etcdInstalled(): boolean {
  return spawnSync('etcd', ['--version'], { stdio: 'ignore' }).error === undefined;
}

export function etcdTarget(options: TargetOptions): ClusterTarget {
  return new EtcdCluster(options);
}

class EtcdCluster extends LocalCluster {
  readonly name = 'etcd';
  /** Written on the first spawn into that start's directory, for the founders and the joining node at once. */
  private peerTlsFlags: { readonly dir: string; readonly flags: Promise<ReadonlyMap<string, readonly string[]>> } | undefined;
  /** The member id etcd gave the joined node (uint64, a decimal string in JSON), until it is removed. */
  private joinedId: string | undefined;

  constructor(private readonly options: TargetOptions) {
    super(options.hosts, options.joinHost, clientPort);
  }

  async put(endpointIndex: number, key: string, value: Uint8Array): Promise<void> {
    await this.post(endpointIndex, '/v3/kv/put', { key: base64(key), value: Buffer.from(value).toString('base64') }, requestTimeoutMs);
  }

  async get(endpointIndex: number, key: string, consistency: ReadConsistency): Promise<void> {
    await this.post(endpointIndex, '/v3/kv/range', { key: base64(key), serializable: consistency === 'serializable' }, requestTimeoutMs);
  }

  /**
   * Timed from the accepted `member add` to the accepted `member promote`, which etcd grants as
   * soon as the learner is in sync. etcd refuses the add until every voter has been connected
   * for 5 s (--strict-reconfig-check); after the failover rounds' restarts that wait is the
   * cluster's state, not the join's cost, so it is retried before the clock starts.
   */
  async join(): Promise<number> {
    const i = this.joinerIndex;
    const add = { peerURLs: [this.peerUrl(i)], isLearner: true };
    const id = memberId(await retryUntil('etcd accepts a new learner', joinTimeoutMs, () => this.post(0, '/v3/cluster/member/add', add, requestTimeoutMs)));
    const started = performance.now();
    this.joinedId = id;
    await this.spawnNode(i);
    // etcd refuses to promote a learner whose log is not within 10% of the leader's; each refusal is retried.
    await retryUntil('the etcd learner is promoted', joinTimeoutMs, async () => {
      await this.throwIfExited(i);
      await this.post(0, '/v3/cluster/member/promote', { ID: id }, requestTimeoutMs);
    });
    return (performance.now() - started) / 1000;
  }

  /** A removed etcd member shuts itself down; removeJoined then finds its process gone or stops it. */
  protected async removeMember(): Promise<void> {
    if (this.joinedId === undefined) return;
    await this.post(0, '/v3/cluster/member/remove', { ID: this.joinedId }, requestTimeoutMs);
    this.joinedId = undefined;
  }

  protected dataPath(i: number, dir: string): string {
    return join(dir, nodeName(i));
  }

  /** The founders form a new cluster; the joining node joins the existing one, which lists it once `member add` ran. */
  protected async command(i: number, dir: string): Promise<{ file: string; args: string[] }> {
    const clientUrl = `http://${this.host(i)}:${clientPort}`;
    const peerUrl = this.peerUrl(i);
    const joining = i === this.joinerIndex;
    const members = [...this.hosts.keys(), ...(joining ? [i] : [])];
    const cluster = members.map((j) => `${nodeName(j)}=${this.peerUrl(j)}`).join(',');
    const args = [
      ...['--name', nodeName(i), '--data-dir', this.dataPath(i, dir)],
      ...['--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl],
      ...['--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl],
      ...(this.options.peerTls ? ((await this.peerTls(dir)).get(nodeName(i)) ?? []) : []),
      ...['--initial-cluster', cluster, '--initial-cluster-state', joining ? 'existing' : 'new', '--initial-cluster-token', 'quorate-bench'],
      // Close to seed 001's timings (100 ms heartbeat, 300 ms election) for a like-for-like
      // failover; etcd refuses an election timeout under 5 heartbeats, hence 500 ms.
      ...['--heartbeat-interval', '100', '--election-timeout', '500', '--pre-vote'],
      // Warnings and errors only: etcd's info lines would add log I/O that Quorate does not do.
      ...['--logger', 'zap', '--log-level', 'warn'],
    ];
    return { file: 'etcd', args };
  }

  protected async status(i: number): Promise<NodeStatus> {
    return parseStatus(await this.post(i, '/v3/maintenance/status', {}, statusTimeoutMs));
  }

  private peerUrl(i: number): string {
    return `${this.options.peerTls ? 'https' : 'http'}://${this.host(i)}:${peerPort}`;
  }

  private peerTls(dir: string): Promise<ReadonlyMap<string, readonly string[]>> {
    if (this.peerTlsFlags?.dir !== dir) {
      const nodes = [...this.hosts.keys(), this.joinerIndex].map((j) => ({ name: nodeName(j), host: this.host(j) }));
      this.peerTlsFlags = { dir, flags: writePeerCerts(dir, nodes) };
    }
    return this.peerTlsFlags.flags;
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

/** The new member's id from a `member add` answer. */
function memberId(json: unknown): string {
  if (typeof json === 'object' && json !== null && 'member' in json) {
    const { member } = json;
    if (typeof member === 'object' && member !== null && 'ID' in member && typeof member.ID === 'string') return member.ID;
  }
  throw new Error(`unexpected etcd member add answer: ${JSON.stringify(json)}`);
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
