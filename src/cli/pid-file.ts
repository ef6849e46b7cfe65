/**
 * The running server's pid in its data directory, so that `quorate stop` and `cluster init`
 * (which starts the server in the background) can find it. A pid file whose process is gone
 * (a crash, a reboot) is stale and ignored; a live one means the node is running.
 */
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { QuorateError } from '../util/errors.js';

export async function writePidFile(path: string): Promise<void> {
  const running = await runningPid(path);
  if (running !== null && running !== process.pid) {
    throw new QuorateError('already_running', `the node is already running (pid ${running}, from ${path}); stop it first with \`quorate stop\``);
  }
  await writeFile(path, `${process.pid}\n`, { mode: 0o600 });
}

export async function removePidFile(path: string): Promise<void> {
  if ((await runningPid(path)) === process.pid) await rm(path, { force: true });
}

/** The pid in the file when that process is alive, else null. */
export async function runningPid(path: string): Promise<number | null> {
  const text = await readFile(path, 'utf8').catch(() => null);
  const pid = text === null ? NaN : Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  return isAlive(pid) ? pid : null;
}

/**
 * Whether the process runs. A zombie does not: a background server whose starter exited is
 * reaped by init, which may take seconds, and `quorate stop` must not wait for that.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    // No /proc (not Linux), or it ended just now: kill() said it exists.
    return true;
  }
}
