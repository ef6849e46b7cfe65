/**
 * Starting a data-directory server from `cluster init` and `cluster join`: detached in the
 * background with its output in quorate.log, then polling until it is ready, and the seed's
 * summary lines (`cluster initialized`, `node-id:`, `state:`, `nodes:`).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ClusterStatusJson } from '../api/index.js';
import type { LogLevel } from '../util/log.js';
import { print } from './context.js';

const mainPath = fileURLToPath(new URL('./main.js', import.meta.url));

/**
 * `quorate server` for the data directory, detached, with this command's --log-level; `code`
 * becomes its exit code if it exits.
 */
export function startInBackground(dataDir: string, logPath: string, logLevel: LogLevel = 'info'): { code: number | null } {
  const log = openSync(logPath, 'a', 0o600);
  const exited: { code: number | null } = { code: null };
  try {
    const child = spawn(process.execPath, [mainPath, 'server', '--data-dir', dataDir, '--log-level', logLevel], { detached: true, stdio: ['ignore', log, log] });
    void once(child, 'exit').then(([code]) => (exited.code = typeof code === 'number' ? code : 1));
    child.unref();
  } finally {
    closeSync(log);
  }
  return exited;
}

/** Polls `probe` until it gives a value; null when the server exited first or the deadline passed. */
export async function untilExitOr<T>(deadline: number, exitCode: () => number | null, pollMs: number, probe: () => Promise<T | null>): Promise<T | null> {
  while (Date.now() < deadline && exitCode() === null) {
    const value = await probe();
    if (value !== null) return value;
    await sleep(pollMs);
  }
  return null;
}

export function printSummary(headline: string, nodeId: string, status: ClusterStatusJson | null): void {
  const healthy = status !== null && status.quorum.ok;
  const nodes = status === null ? '?' : `${status.members.filter((m) => m.state === 'ready').length}/${status.members.length}`;
  print(`${headline}\nnode-id:  ${nodeId}\nstate:    ${healthy ? 'healthy' : 'starting'}\nnodes:    ${nodes}\n`);
}
