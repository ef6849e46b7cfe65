/**
 * A real 3-node etcd cluster (Debian's etcd-server, 3.4) on 127.0.71.1-3, the reference the
 * conformance suite holds Quorate to. Plain HTTP and no auth, as etcd starts by default. Every
 * process started is killed by pid in stop(), and its data directory removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const clientPort = 2379;
const peerPort = 2380;

export class EtcdCluster {
  private readonly processes: ChildProcess[] = [];

  private constructor(
    private readonly dir: string,
    private readonly hosts: readonly string[],
  ) {}

  /** Starts the members; they elect a leader on their own (the caller waits for health). */
  static async start(hosts: readonly string[]): Promise<EtcdCluster> {
    const cluster = new EtcdCluster(await mkdtemp(join(tmpdir(), 'quorate-etcd-ref-')), hosts);
    const initial = hosts.map((host, i) => `e${i + 1}=http://${host}:${peerPort}`).join(',');
    for (const [i, host] of hosts.entries()) cluster.spawnMember(i, host, initial);
    return cluster;
  }

  get endpoints(): string[] {
    return this.hosts.map((host) => `http://${host}:${clientPort}`);
  }

  private spawnMember(i: number, host: string, initial: string): void {
    const name = `e${i + 1}`;
    const args = [
      ['--name', name],
      ['--data-dir', join(this.dir, name)],
      ['--listen-client-urls', `http://${host}:${clientPort}`],
      ['--advertise-client-urls', `http://${host}:${clientPort}`],
      ['--listen-peer-urls', `http://${host}:${peerPort}`],
      ['--initial-advertise-peer-urls', `http://${host}:${peerPort}`],
      ['--initial-cluster', initial],
      ['--initial-cluster-state', 'new'],
      ['--initial-cluster-token', 'quorate-conformance'],
    ].flat();
    const log = createWriteStream(join(this.dir, `${name}.log`));
    const child = spawn('etcd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    this.processes.push(child);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.processes.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await exited;
      }),
    );
    if (process.env.QUORATE_E2E_KEEP === '1') console.error(`etcd: kept ${this.dir}`);
    else await rm(this.dir, { recursive: true, force: true });
  }
}
