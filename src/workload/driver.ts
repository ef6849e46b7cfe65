/**
 * What the agent asks of a task driver. The scheduler and the agent speak only this interface,
 * so a container driver can be added beside the process driver without touching either: start
 * a task, stop it, learn how it ended, and find it again after the agent itself restarted.
 */

export interface TaskConfig {
  /** The allocation id: unique, and the name of the task's directory. */
  readonly id: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Working directory; the task's own directory when null. */
  readonly workdir: string | null;
  /** Whether the task must end when the node's fence expires (no-quorum policy `stop`). */
  readonly selfFence: boolean;
}

/** How a task ended. `code` and `signal` are null when the task was re-attached and its end not observed. */
export interface TaskExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** Enough to find a running task again after an agent restart; kept in the agent's data directory. */
export interface TaskState {
  readonly driver: string;
  readonly id: string;
  readonly pid: number;
  /** Guards against pid reuse: the process's start time as the kernel reports it. */
  readonly startTicks: number;
}

export interface TaskHandle {
  readonly state: TaskState;
  /** Resolves once the task has ended. */
  readonly exited: Promise<TaskExit>;
  /** SIGTERM to the task's process group, SIGKILL after graceMs; resolves when it has ended. */
  stop(graceMs: number): Promise<TaskExit>;
}

export interface TaskDriver {
  readonly name: string;
  start(config: TaskConfig): Promise<TaskHandle>;
  /** The task described by `state` if it still runs (the same process, not a reused pid), else null. */
  recover(state: TaskState): Promise<TaskHandle | null>;
}
