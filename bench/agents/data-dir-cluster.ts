/**
 * Quorate formed the way an operator forms it (seed 000): `cluster init` on the first address,
 * then `cluster join` with a join token on each of the others, all with `--foreground` so that
 * the benchmark owns every server process. Only such a cluster can take agents: its nodes serve
 * the API over HTTPS with mutual TLS, and a heartbeat is authenticated by the certificate the
 * agent presents (a TOML cluster serves plain HTTP). The benchmark then reads what an operator
 * on the first machine could: the CA in its data directory, each server's pid file, its status.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runningPid } from '../../src/cli/pid-file.js';
import { DataDir } from '../../src/cluster/data-dir.js';
import type { CertAndKey } from '../../src/cluster/index.js';
import { QuorateCluster, apiPort, cliPath, statusTimeoutMs } from '../cluster/quorate.js';
import { retryUntil } from '../cluster/wait.js';

const formTimeoutMs = 60_000;
/** Long enough for both joins; the token is of no use once the cluster has formed. */
const joinTokenTtl = '10m';
const execFileAsync = promisify(execFile);

/** What the benchmark reads from a server's `GET /v1/status`. */
export interface ServerStatus {
  readonly id: string;
  readonly leader: string | null;
  readonly commitIndex: number;
  readonly voters: number;
}

export class DataDirCluster extends QuorateCluster {
  /** Each node's data directory, known once the node has been spawned. */
  private readonly dataDirs: DataDir[] = [];
  private caPem: string | undefined;

  constructor(hosts: readonly string[]) {
    super({ hosts }, 'https');
  }

  /** host:port of every server's API, as agents are given them (`--servers`). */
  get apiAddresses(): string[] {
    return this.hosts.map((host) => `${host}:${apiPort}`);
  }

  override async start(): Promise<void> {
    await super.start();
    // A joined server stays a learner until the next one joins (the leader never stops at two
    // voters); the figures are for three voters, so wait for the second promotion.
    await retryUntil(`${this.hosts.length} voters`, formTimeoutMs, async () => {
      const status = await this.serverStatus(await this.leaderIndex());
      if (status.voters !== this.hosts.length) throw new Error(`${status.voters} voters so far`);
    });
  }

  async serverStatus(i: number): Promise<ServerStatus> {
    const json = await this.call(i, 'GET', '/v1/status', null, statusTimeoutMs);
    if (isStatus(json)) return { id: json.id, leader: json.leader, commitIndex: json.commitIndex, voters: json.members.filter((m) => m.voter).length };
    throw new Error(`unexpected quorate status: ${JSON.stringify(json)}`);
  }

  /** The server process of node i, from the pid file its data directory holds while it runs. */
  async pid(i: number): Promise<number> {
    const pid = await runningPid(this.dataDir(i).pidPath);
    if (pid === null) throw new Error(`node ${i} is not running: no live pid in ${this.dataDir(i).pidPath}`);
    return pid;
  }

  /** The cluster CA with its key, which every server keeps (it admits nodes). */
  async ca(): Promise<CertAndKey> {
    const { caCertPem, caKeyPem } = await this.dataDir(0).readTls();
    if (caKeyPem === null) throw new Error('the first server has no CA key');
    return { certPem: caCertPem, keyPem: caKeyPem };
  }

  /** Throws until the first node has written its CA; requests are retried until then. */
  protected override trustedCa(): string {
    this.caPem ??= readFileSync(this.dataDir(0).caCertPath, 'utf8');
    return this.caPem;
  }

  protected override async command(i: number, dir: string): Promise<{ file: string; args: string[] }> {
    const dataDir = new DataDir(join(dir, `n${i + 1}`));
    this.dataDirs[i] = dataDir;
    const cli = [cliPath, '--data-dir', dataDir.path];
    // A restart (ClusterTarget.restart) finds the node already made.
    if (await dataDir.isInitialized()) return { file: process.execPath, args: [...cli, 'server'] };
    const advertise = ['--advertise', this.hosts[i] ?? '', '--foreground'];
    if (i === 0) return { file: process.execPath, args: [...cli, 'cluster', 'init', ...advertise] };
    const servers = this.apiAddresses.slice(0, i).join(',');
    return { file: process.execPath, args: [...cli, 'cluster', 'join', '--token', await this.joinToken(), '--servers', servers, ...advertise] };
  }

  /** A server join token from the first node once it leads, as `cluster join-token` prints it there. */
  private async joinToken(): Promise<string> {
    await retryUntil('the first node leads', formTimeoutMs, async () => {
      const { id, leader } = await this.serverStatus(0);
      if (leader !== id) throw new Error(`it knows leader ${String(leader)}`);
    });
    const { stdout } = await execFileAsync(process.execPath, [cliPath, '--data-dir', this.dataDir(0).path, 'cluster', 'join-token', '--ttl', joinTokenTtl]);
    return stdout.trim();
  }

  private dataDir(i: number): DataDir {
    const dir = this.dataDirs[i];
    if (dir === undefined) throw new Error(`node ${i} has not been started`);
    return dir;
  }
}

function isStatus(json: unknown): json is { id: string; leader: string | null; commitIndex: number; members: { voter: boolean }[] } {
  if (typeof json !== 'object' || json === null) return false;
  const status = json as Record<string, unknown>;
  return (
    typeof status.id === 'string' &&
    (typeof status.leader === 'string' || status.leader === null) &&
    typeof status.commitIndex === 'number' &&
    Array.isArray(status.members) &&
    status.members.every((m: unknown) => typeof m === 'object' && m !== null && typeof (m as { voter?: unknown }).voter === 'boolean')
  );
}
