/**
 * The supervisor of one task (run by the process driver as `node task-shim.js <json>`): the
 * leader of the task's process group, it starts the command as its child, enforces the node's
 * fence (fence.ts) and records how the task ended.
 *
 * - When the fence deadline comes within `termLeadMs`, it sends SIGTERM to the group, and
 *   SIGKILL once the deadline itself is `killLeadMs` away: the task is gone before the deadline,
 *   whatever happened to the agent (SIGKILLed, hung, cut off), because this process, not the
 *   agent, does it.
 * - A SIGTERM sent to the group (the driver's stop) reaches the command too; the shim stays
 *   until the command has exited, so the group lives exactly as long as the task.
 * - The command's exit code or signal goes to `exitFile`, where an agent that re-attached after
 *   a restart reads it.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { monotonicMs, readFence } from './fence.js';

export interface ShimConfig {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly exitFile: string;
  /** Null: no fence (a driver used outside an agent, as in tests of the driver itself). */
  readonly fence: { readonly path: string; readonly termLeadMs: number; readonly killLeadMs: number; readonly pollMs: number } | null;
}

function main(config: ShimConfig): void {
  const child = spawn(config.command, [...config.args], { cwd: config.cwd, stdio: 'inherit' });
  // The group's SIGTERM is for the task: the shim outlives it only to record the exit.
  process.on('SIGTERM', () => undefined);
  process.on('SIGINT', () => undefined);
  child.once('error', (error) => {
    process.stderr.write(`quorate: cannot start ${config.command}: ${error.message}\n`);
    record(config.exitFile, { code: 127, signal: null });
    process.exit(127);
  });
  child.once('exit', (code, signal) => {
    record(config.exitFile, { code, signal });
    process.exit(code ?? 128);
  });
  const fence = config.fence;
  if (fence === null) return;
  let terminated = false;
  const check = (): void => {
    const left = readFence(fence.path) - monotonicMs();
    if (left <= fence.killLeadMs) {
      process.stderr.write('quorate: the node lost contact with the cluster leader for longer than its watchdog timeout: task killed (self-fencing)\n');
      process.kill(-process.pid, 'SIGKILL');
    } else if (left <= fence.termLeadMs && !terminated) {
      terminated = true;
      process.stderr.write('quorate: the node lost contact with the cluster leader: stopping the task before its watchdog timeout (self-fencing)\n');
      process.kill(-process.pid, 'SIGTERM');
    }
  };
  check();
  setInterval(check, fence.pollMs);
}

function record(path: string, exit: { code: number | null; signal: string | null }): void {
  try {
    writeFileSync(path, JSON.stringify(exit));
  } catch {
    // The directory is gone (the allocation was cleaned up): nobody will ask.
  }
}

main(JSON.parse(process.argv[2] ?? '{}') as ShimConfig);
