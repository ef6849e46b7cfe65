/**
 * Debian's `etcdctl` (ETCDCTL_API=3) run against a target: one command to completion, with
 * optional stdin (interactive `txn`), or a long-running one (`watch`) whose output is read as
 * it arrives and which is killed by pid when the test is done with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Target } from './targets.js';

export interface EtcdctlResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const commandTimeoutMs = 15_000;

function start(target: Target, args: readonly string[], endpoints: readonly string[]): ChildProcess {
  const all = ['--endpoints', endpoints.join(','), '--dial-timeout', '5s', '--command-timeout', '10s', ...target.etcdctlFlags, ...args];
  return spawn('etcdctl', all, { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs one command; `endpoints` defaults to the first member only, so each call hits a known node. */
export function etcdctl(target: Target, args: readonly string[], options: { readonly stdin?: string; readonly endpoints?: readonly string[] } = {}): Promise<EtcdctlResult> {
  const child = start(target, args, options.endpoints ?? target.endpoints.slice(0, 1));
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin?.end(options.stdin ?? '');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`etcdctl ${args.join(' ')} did not finish within ${commandTimeoutMs} ms (stdout: ${stdout}, stderr: ${stderr})`));
    }, commandTimeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a command that must succeed and returns its stdout. */
export async function etcdctlOk(target: Target, args: readonly string[], options: { readonly stdin?: string; readonly endpoints?: readonly string[] } = {}): Promise<string> {
  const result = await etcdctl(target, args, options);
  if (result.code !== 0) throw new Error(`etcdctl ${args.join(' ')} exited with ${result.code}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** A long-running etcdctl (watch) whose stdout lines are collected until `stop`. */
export class EtcdctlStream {
  private text = '';
  private readonly child: ChildProcess;
  private waiter: (() => void) | null = null;

  constructor(target: Target, args: readonly string[]) {
    this.child = start(target, args, target.endpoints.slice(0, 1));
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.text += chunk.toString();
      this.waiter?.();
    });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.text += chunk.toString()));
  }

  get lines(): string[] {
    return this.text.split('\n').filter((line) => line !== '');
  }

  /** Resolves once at least `count` non-empty lines arrived; rejects after `timeoutMs`. */
  async waitForLines(count: number, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < count) {
      const left = deadline - Date.now();
      if (left <= 0 || this.child.exitCode !== null) throw new Error(`etcdctl stream: ${this.lines.length} of ${count} lines within ${timeoutMs} ms: ${this.text}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.lines;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** Parses `-w table` output into rows of cells keyed by the header's column names. */
export function parseTable(text: string): Record<string, string>[] {
  const rows = text
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  const [header, ...body] = rows;
  if (header === undefined) throw new Error(`not a table: ${text}`);
  return body.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ''])));
}
