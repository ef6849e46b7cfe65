/**
 * Real `quorate server` processes for end-to-end tests: a cluster of three nodes on
 * 127.0.N.1-3 with the same ports (as the seeds' 10.0.0.1-3), each with its own TOML config
 * and data directory, started from the built CLI. Test files pick different blocks N so they
 * can run in parallel. Every process started is killed by pid in stop(), even on failure.
 *
 * The client side uses the documented HTTP API over HTTPS (the nodes' certificates come from the
 * CA derived from the cluster secret, written to ca.pem for the CLI's --ca-file), the way a
 * user's program would; `insecureApi` starts the nodes with plain HTTP instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { deriveAdminToken } from '../../src/cluster/admin-token.js';
import { deriveCa } from '../../src/cluster/certs.js';
import { httpsText } from './https-request.js';

export const cliPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'main.js');

export const apiPort = 8080;
export const peerPort = 8081;
const clusterSecret = 'e2e-test-secret-0123456789';
/** The admin token every node derives from the cluster secret (the default cluster name is 'quorate'). */
export const adminToken = deriveAdminToken(clusterSecret, 'quorate');

export interface ClusterOptions {
  /** Loopback block: nodes get 127.0.<block>.1 .. .<size>. */
  readonly block: number;
  readonly size?: number;
  /** Extra lines for every node's [cluster] table. */
  readonly extraConfig?: string;
  /** Serve the API over plain HTTP (`quorate server --insecure-api`). */
  readonly insecureApi?: boolean;
}

export interface HttpResult {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export class E2eCluster {
  readonly size: number;
  readonly processes: (ChildProcess | null)[];
  private constructor(
    readonly dir: string,
    readonly options: ClusterOptions,
    /** The cluster CA (derived from the secret), which the nodes' API certificates come from. */
    readonly caPem: string,
  ) {
    this.size = options.size ?? 3;
    this.processes = Array.from({ length: this.size }, () => null);
  }

  static async create(options: ClusterOptions): Promise<E2eCluster> {
    const cluster = new E2eCluster(await mkdtemp(join(tmpdir(), `quorate-e2e-${options.block}-`)), options, (await deriveCa(clusterSecret, 'quorate')).certPem);
    for (let i = 0; i < cluster.size; i++) await cluster.writeConfig(i);
    await writeFile(cluster.caFile, cluster.caPem);
    return cluster;
  }

  host(i: number): string {
    return `127.0.${this.options.block}.${i + 1}`;
  }

  api(i: number): string {
    return `${this.options.insecureApi === true ? 'http' : 'https'}://${this.host(i)}:${apiPort}`;
  }

  /** The CA certificate file, for the CLI's --ca-file. */
  get caFile(): string {
    return join(this.dir, 'ca.pem');
  }

  /** Node i's data directory (db_root_dir/<node id>). */
  dataDir(i: number): string {
    return join(this.dir, 'db', String(i + 1));
  }

  configPath(i: number): string {
    return join(this.dir, `n${i + 1}.toml`);
  }

  private async writeConfig(i: number): Promise<void> {
    const members = Array.from({ length: this.size }, (_, j) => `  { id = ${j + 1}, address = "${this.host(j)}:${peerPort}", role = 1, status = 2 },`).join('\n');
    const text = [
      '[cluster]',
      `node_id = ${i + 1}`,
      `listen_address = "${this.host(i)}:${peerPort}"`,
      `api_address = "${this.host(i)}:${apiPort}"`,
      'initial_cluster = [',
      members,
      ']',
      `db_root_dir = "${join(this.dir, 'db')}"`,
      `cluster_secret = "${clusterSecret}"`,
      this.options.extraConfig ?? '',
      '',
    ].join('\n');
    await writeFile(this.configPath(i), text);
  }

  /** Start node i and wait until its API answers. */
  async start(i: number): Promise<void> {
    const log = createWriteStream(join(this.dir, `n${i + 1}.log`), { flags: 'a' });
    const insecure = this.options.insecureApi === true ? ['--insecure-api'] : [];
    const child = spawn(process.execPath, [cliPath, 'server', '--config', this.configPath(i), ...insecure], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    this.processes[i] = child;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`node ${i + 1} exited with ${child.exitCode}; see ${join(this.dir, `n${i + 1}.log`)}`);
      try {
        await this.send(i, 'GET', '/v1/health', undefined, 500, {});
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new Error(`node ${i + 1} did not answer on ${this.api(i)} within 15 s`);
  }

  async startAll(): Promise<void> {
    await Promise.all(Array.from({ length: this.size }, (_, i) => this.start(i)));
  }

  /** Send a signal; for SIGKILL wait until the process is gone. */
  async signal(i: number, signal: NodeJS.Signals): Promise<void> {
    const child = this.processes[i];
    if (child === null || child === undefined) return;
    if (signal !== 'SIGKILL' && signal !== 'SIGTERM') {
      child.kill(signal);
      return;
    }
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    this.processes[i] = null;
  }

  /** Kills every node; keeps the directory (configs, data, logs) with `keep` or QUORATE_E2E_KEEP=1. */
  async stop(keep = false): Promise<void> {
    for (let i = 0; i < this.size; i++) {
      const child = this.processes[i];
      if (child === null || child === undefined) continue;
      child.kill('SIGCONT');
      await this.signal(i, 'SIGKILL');
    }
    // QUORATE_E2E_KEEP=1 keeps the configs, data and node logs for a post-mortem.
    if (keep || process.env.QUORATE_E2E_KEEP === '1') console.error(`e2e: kept ${this.dir}`);
    else await rm(this.dir, { recursive: true, force: true });
  }

  async request(i: number, method: string, path: string, body?: string, timeoutMs = 10_000, headers: Record<string, string> = {}): Promise<HttpResult> {
    // Every route but health needs a token (issue 9); the tests act as the operator.
    const { status, text } = await this.send(i, method, path, body, timeoutMs, { authorization: `Bearer ${adminToken}`, ...headers });
    return { status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
  }

  private async send(i: number, method: string, path: string, body: string | undefined, timeoutMs: number, headers: Record<string, string>): Promise<{ status: number; text: string }> {
    if (this.options.insecureApi !== true) return httpsText(`${this.api(i)}${path}`, { ca: this.caPem, method, headers, timeoutMs, ...(body === undefined ? {} : { body }) });
    const response = await fetch(`${this.api(i)}${path}`, { method, body: body ?? null, headers, signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, text: await response.text() };
  }

  put(i: number, key: string, value: string): Promise<HttpResult> {
    return this.request(i, 'PUT', `/v1/kv/${encodeURIComponent(key)}`, value);
  }

  get(i: number, key: string, consistency: 'linearizable' | 'serializable' = 'linearizable'): Promise<HttpResult> {
    return this.request(i, 'GET', `/v1/kv/${encodeURIComponent(key)}?consistency=${consistency}`);
  }

  /** An admin call (every request carries the admin token; this one has no body). */
  admin(i: number, method: string, path: string, timeoutMs = 10_000): Promise<HttpResult> {
    return this.request(i, method, path, undefined, timeoutMs);
  }

  async status(i: number): Promise<Record<string, unknown>> {
    return (await this.request(i, 'GET', '/v1/status', undefined, 2000)).body;
  }

  /** The index of the node every live node agrees leads, once they agree. */
  async waitForLeader(live: readonly number[], timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let seen: unknown[] = [];
    while (Date.now() < deadline) {
      try {
        const leaders = await Promise.all(live.map(async (i) => (await this.status(i).catch((error: unknown) => ({ leader: `no answer (${String(error)})` }))).leader));
        seen = leaders;
        const first = leaders[0];
        if (typeof first === 'string' && leaders.every((l) => l === first)) {
          const index = Number(first) - 1;
          if (live.includes(index)) return index;
        }
      } catch {
        // A node may be starting or paused; ask again.
      }
      await sleep(50);
    }
    throw new Error(`no leader agreed by nodes ${live.map((i) => i + 1).join(', ')} within ${timeoutMs} ms (last seen: ${live.map((i, j) => `${i + 1} -> ${String(seen[j])}`).join(', ')})`);
  }
}
