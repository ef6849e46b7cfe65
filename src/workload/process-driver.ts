/**
 * The process driver: a task is a plain process in its own session and process group (so a
 * stop reaches everything it started), under a small supervisor (task-shim.ts) that leads the
 * group, kills the task when the node's fence expires and records its exit in the task's
 * directory. stdout and stderr are appended to files in the task's directory. The files are opened by the agent and handed to the child, not piped
 * through the agent, so a task keeps running and logging while its agent restarts; the agent
 * then finds it again by pid, checking the kernel's start time so that a reused pid is never
 * mistaken for the task. Logs rotate by copy-and-truncate (the child writes with O_APPEND, so
 * it continues at the start of the emptied file), keeping `logFilesMax` old files.
 *
 * The task gets exactly `config.env`: the agent decides what to pass on (PATH, the job's env,
 * the QUORATE_* variables).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdir, open, readFile, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { QuorateError } from '../util/errors.js';
import type { TaskConfig, TaskDriver, TaskExit, TaskHandle, TaskState } from './driver.js';
import type { ShimConfig } from './task-shim.js';

const shimPath = join(import.meta.dirname, 'task-shim.js');

export interface ProcessDriverOptions {
  /** Each task gets `<root>/<task id>/` with its logs. */
  readonly root: string;
  readonly logBytesMax: number;
  readonly logFilesMax: number;
  /** How often a re-attached task is checked for having ended, and logs for size. */
  readonly pollMs: number;
  /** The node's fence (fence.ts), enforced by each task's supervisor; null: none. */
  readonly fence?: ShimConfig['fence'];
}

export const defaultProcessDriverOptions: Omit<ProcessDriverOptions, 'root'> = { logBytesMax: 10 * 1024 * 1024, logFilesMax: 3, pollMs: 1000 };

export const logStreams = ['stdout', 'stderr'] as const;

export function logPath(root: string, taskId: string, stream: (typeof logStreams)[number]): string {
  return join(root, taskId, 'logs', `${stream}.log`);
}

export class ProcessDriver implements TaskDriver {
  readonly name = 'process';

  constructor(private readonly options: ProcessDriverOptions) {}

  async start(config: TaskConfig): Promise<TaskHandle> {
    const dir = join(this.options.root, config.id);
    await mkdir(join(dir, 'logs'), { recursive: true, mode: 0o700 });
    const exitFile = exitPath(this.options.root, config.id);
    await rm(exitFile, { force: true });
    const shim: ShimConfig = { command: config.command, args: config.args, cwd: config.workdir ?? dir, exitFile, fence: config.selfFence ? (this.options.fence ?? null) : null };
    const files = await Promise.all(logStreams.map((stream) => open(logPath(this.options.root, config.id, stream), 'a', 0o600)));
    let child: ChildProcess;
    let exited: Promise<TaskExit>;
    try {
      child = spawn(process.execPath, [shimPath, JSON.stringify(shim)], { env: { ...config.env }, detached: true, stdio: ['ignore', files[0]?.fd, files[1]?.fd] });
      // The task outlives a stopping agent (its fence decides), so it must not hold the agent open.
      child.unref();
      // Listening before the first await: a task may end at once.
      exited = new Promise<TaskExit>((resolve) => child.once('exit', (code, signal) => resolve(recordedExit(exitFile, { code, signal }))));
      // events.once rejects with the 'error' event instead of resolving.
      await once(child, 'spawn').catch((error: unknown) => {
        throw new QuorateError('task_failed', `cannot start the supervisor of ${config.id}: ${(error as Error).message}`);
      });
    } finally {
      // The child holds its own copies of the descriptors.
      await Promise.all(files.map((file) => file.close()));
    }
    const pid = child.pid;
    if (pid === undefined) throw new QuorateError('task_failed', `${config.command} for ${config.id} started without a pid`);
    const startTicks = await processStartTicks(pid);
    const handle = new ProcessHandle({ driver: this.name, id: config.id, pid, startTicks: startTicks ?? 0 }, exited, this.options);
    const failedToStart = await Promise.race([exited.then((exit) => (exit.code === 127 ? exit : null)), sleep(100).then(() => null)]);
    if (failedToStart !== null) {
      const reason = (await readFile(logPath(this.options.root, config.id, 'stderr'), 'utf8').catch(() => '')).trim().split('\n').pop() ?? '';
      throw new QuorateError('task_failed', `cannot start ${config.command} for ${config.id}: ${reason.replace(/^quorate: /, '')}`);
    }
    return handle;
  }

  async recover(state: TaskState): Promise<TaskHandle | null> {
    if (state.driver !== this.name || (await processStartTicks(state.pid)) !== state.startTicks) return null;
    const exited = (async (): Promise<TaskExit> => {
      while ((await processStartTicks(state.pid)) === state.startTicks) await sleep(this.options.pollMs, undefined, { ref: false });
      return recordedExit(exitPath(this.options.root, state.id), { code: null, signal: null });
    })();
    return new ProcessHandle(state, exited, this.options);
  }
}

function exitPath(root: string, taskId: string): string {
  return join(root, taskId, 'exit.json');
}

/** How the supervisor saw the command end; `otherwise` when it could not say (killed with its group). */
async function recordedExit(path: string, otherwise: TaskExit): Promise<TaskExit> {
  try {
    const { code, signal } = JSON.parse(await readFile(path, 'utf8')) as { code?: unknown; signal?: unknown };
    return { code: typeof code === 'number' ? code : null, signal: typeof signal === 'string' ? signal : null };
  } catch {
    return otherwise;
  }
}

class ProcessHandle implements TaskHandle {
  constructor(
    readonly state: TaskState,
    readonly exited: Promise<TaskExit>,
    private readonly options: ProcessDriverOptions,
  ) {
    // A rotation that fails (disk full, directory removed) is tried again at the next poll; an
    // unhandled rejection here would take the whole agent down with it.
    const timer = setInterval(() => void this.rotateLogs().catch(() => undefined), options.pollMs);
    // A detached task (the agent is stopping to restart) must not keep the agent's process alive.
    timer.unref();
    void exited.finally(() => clearInterval(timer));
  }

  async stop(graceMs: number): Promise<TaskExit> {
    signalGroup(this.state.pid, 'SIGTERM');
    const ended = await Promise.race([this.exited, sleep(graceMs).then(() => null)]);
    if (ended !== null) return ended;
    signalGroup(this.state.pid, 'SIGKILL');
    return this.exited;
  }

  private async rotateLogs(): Promise<void> {
    for (const stream of logStreams) await rotateIfLarge(logPath(this.options.root, this.state.id, stream), this.options.logBytesMax, this.options.logFilesMax);
  }
}

/** A missing group has ended already. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or null
 * when there is no such process or it has exited (a zombie counts as ended).
 */
export async function processStartTicks(pid: number): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return null;
  const ticks = Number(fields[19]);
  return Number.isSafeInteger(ticks) ? ticks : null;
}

/** Copy-and-truncate rotation: `path` -> `path.1` -> ... -> `path.<filesMax>` (dropped). */
export async function rotateIfLarge(path: string, bytesMax: number, filesMax: number): Promise<void> {
  const size = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  if (size <= bytesMax) return;
  for (let n = filesMax - 1; n >= 1; n--) await rename(`${path}.${n}`, `${path}.${n + 1}`).catch(() => undefined);
  if (filesMax >= 1) await copyFile(path, `${path}.1`);
  await truncate(path, 0);
}
