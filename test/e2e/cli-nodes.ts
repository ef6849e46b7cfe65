/**
 * Nodes made with the real `quorate` command, as an operator makes them: each has a data
 * directory under one temp root and an advertise address; commands run with `--data-dir`, so
 * they find the node the way they do on a real machine. Background servers outlive the CLI
 * that started them, so `cleanup` kills every pid recorded in the data directories.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterStatusJson } from '../../src/api/index.js';
import { QuorateClient } from '../../src/client/index.js';
import { runCli, type CliResult } from '../cli/run-cli.js';

export class CliNodes {
  private constructor(readonly root: string) {}

  static async create(name: string): Promise<CliNodes> {
    return new CliNodes(await mkdtemp(join(tmpdir(), `quorate-${name}-`)));
  }

  node(host: string): CliNode {
    return new CliNode(join(this.root, host), host);
  }

  async cleanup(): Promise<void> {
    for (const dir of await readdir(this.root)) await new CliNode(join(this.root, dir), dir).kill();
    if (process.env.QUORATE_E2E_KEEP === undefined) await rm(this.root, { recursive: true, force: true });
  }
}

export class CliNode {
  constructor(
    readonly dataDir: string,
    readonly host: string,
  ) {}

  run(...args: string[]): Promise<CliResult> {
    return runCli(['--data-dir', this.dataDir, ...args]);
  }

  /** Runs a command that must succeed; its stdout. */
  async ok(...args: string[]): Promise<string> {
    const result = await this.run(...args);
    assert.equal(result.code, 0, `quorate ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  }

  /** A client of this node with its CA and admin token, as the CLI on the node makes one. */
  async client(): Promise<QuorateClient> {
    const ca = await readFile(join(this.dataDir, 'tls', 'ca.crt'), 'utf8');
    const token = (await readFile(join(this.dataDir, 'admin.token'), 'utf8')).trim();
    return new QuorateClient({ endpoints: [`https://${this.host}:8080`], ca, token, requestTimeoutMs: 10_000 });
  }

  async status(): Promise<ClusterStatusJson | null> {
    const result = await this.run('--json', 'cluster', 'status');
    return result.code === 0 ? (JSON.parse(result.stdout) as ClusterStatusJson) : null;
  }

  async pid(): Promise<number | null> {
    const pid = Number((await readFile(join(this.dataDir, 'quorate.pid'), 'utf8').catch(() => '')).trim());
    return pid > 0 ? pid : null;
  }

  /** SIGKILL the background server, if any, and wait until it is gone. */
  async kill(): Promise<void> {
    const pid = await this.pid();
    if (pid === null) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    while (alive(pid)) await sleep(20);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function until<T>(what: string, probe: () => Promise<T | null | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined) return value;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${last}`}`);
    await sleep(100);
  }
}
