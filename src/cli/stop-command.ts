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

async function stop(command: Command): Promise<void> {
  const { DataDir, resolveDataDir } = await import('../cluster/data-dir.js');
  const dir = new DataDir(resolveDataDir(globalOptions(command).dataDir));
  const identity = await dir.readIdentity();
  const pid = await runningPid(dir.pidPath);
  if (pid === null) {
    print(`node ${identity.nodeId} is not running\n`);
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + stopTimeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new CliError(`node ${identity.nodeId} (pid ${pid}) did not stop within ${stopTimeoutMs / 1000} s; see ${dir.logPath}`);
    await sleep(pollMs);
  }
  print(`node ${identity.nodeId} stopped\n`);
}

export function addStopCommand(program: Command): void {
  program
    .command('stop')
    .description('stop the local node gracefully (a leader hands over leadership first)')
    .action((_options: object, command: Command) => stop(command));
}
