/**
 * The node processes a cluster target starts. Each is killed by its own pid with SIGKILL. A
 * process-wide 'exit' hook SIGKILLs any still running, so that an exception or a second Ctrl-C
 * never leaves a node behind holding the ports and data directory of the next run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { once } from 'node:events';

const running = new Set<ChildProcess>();

process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class NodeProcess {
  private constructor(
    private readonly child: ChildProcess,
    /** Resolves when the process has exited, for whatever reason. */
    private readonly exited: Promise<void>,
  ) {}

  /** Starts command with its stdout and stderr appended to logPath; resolves once it runs. */
  static async spawn(command: string, args: readonly string[], logPath: string): Promise<NodeProcess> {
    const log = openSync(logPath, 'a');
    try {
      const child = spawn(command, args, { stdio: ['ignore', log, log] });
      running.add(child);
      // 'error' instead of 'exit' when the command could not be started at all.
      const exited = new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.once('error', () => resolve());
      }).then(() => {
        running.delete(child);
      });
      await once(child, 'spawn');
      return new NodeProcess(child, exited);
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(log);
    }
  }

  /** Undefined when the process has exited. */
  get pid(): number | undefined {
    return this.alive ? this.child.pid : undefined;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILLs the process now and resolves once it has exited. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  /**
   * SIGTERMs the process and SIGKILLs it if it is still running after graceMs: a node that exits
   * on its own writes what it writes at exit, such as a `--cpu-prof` profile.
   */
  async terminate(graceMs: number): Promise<void> {
    if (this.alive) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
