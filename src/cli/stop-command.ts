/**
 * `quorate stop`: stop the node of this data directory gracefully (SIGTERM: a leader hands
 * leadership over first) and wait until its process has exited.
 */
import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, globalOptions, print } from './context.js';
import { isAlive, runningPid } from './pid-file.js';

const stopTimeoutMs = 30_000;
const pollMs = 50;

/** SIGTERMs the server of the data directory and waits for it; false when it was not running. */
export async function stopLocalNode(dataDir: string | undefined): Promise<{ nodeId: string; wasRunning: boolean }> {
  const { DataDir, resolveDataDir } = await import('../cluster/data-dir.js');
  const dir = new DataDir(resolveDataDir(dataDir));
  const identity = await dir.readIdentity();
  const pid = await runningPid(dir.pidPath);
  if (pid === null) return { nodeId: identity.nodeId, wasRunning: false };
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + stopTimeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new CliError(`node ${identity.nodeId} (pid ${pid}) did not stop within ${stopTimeoutMs / 1000} s; see ${dir.logPath}`);
    await sleep(pollMs);
  }
  return { nodeId: identity.nodeId, wasRunning: true };
}

async function stop(command: Command): Promise<void> {
  const { nodeId, wasRunning } = await stopLocalNode(globalOptions(command).dataDir);
  print(wasRunning ? `node ${nodeId} stopped\n` : `node ${nodeId} is not running\n`);
}

export function addStopCommand(program: Command): void {
  program
    .command('stop')
    .description('stop the local node gracefully (a leader hands over leadership first)')
    .action((_options: object, command: Command) => stop(command));
}
