/**
 * The node's fence: a small file in the data directory holding the moment (on the machine's
 * monotonic clock, shared by every process on it) until which this node may run jobs. The agent
 * moves it forward each time the leader acknowledges a heartbeat: to the moment that heartbeat
 * was sent plus the watchdog timeout. Every task's supervisor (task-shim.ts) reads it and kills
 * its task when the moment passes, so a node that cannot reach the leader stops its jobs even if
 * the agent itself is dead or hung; the leader waits longer than that before it replaces them.
 *
 * Writes are atomic (write a temp file, rename), so a reader never sees half a deadline; a
 * missing or unreadable fence counts as expired.
 */
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';

/** Milliseconds on CLOCK_MONOTONIC: the same clock in every process of the machine (not wall time, which may jump). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

export async function writeFence(path: string, deadlineMs: number): Promise<void> {
  const temp = `${path}.tmp`;
  await writeFile(temp, `${Math.floor(deadlineMs)}\n`, { mode: 0o600 });
  await rename(temp, path);
}

/** The deadline, or -Infinity when there is no readable fence (nothing may run). */
export function readFence(path: string): number {
  try {
    const deadline = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(deadline) ? deadline : -Infinity;
  } catch {
    return -Infinity;
  }
}

/** When, before a fence expires, the agent stops its jobs and the supervisors SIGTERM and SIGKILL theirs. */
export interface FenceTimings {
  readonly stopLeadMs: number;
  readonly termLeadMs: number;
  readonly killLeadMs: number;
  readonly pollMs: number;
}

/** Scaled to the watchdog timeout (a 5 s timeout: the agent stops jobs 1 s early, SIGKILL 200 ms early). */
export function fenceTimings(watchdogTimeoutMs: number): FenceTimings {
  return {
    stopLeadMs: Math.min(1000, watchdogTimeoutMs / 5),
    termLeadMs: Math.min(500, watchdogTimeoutMs / 10),
    killLeadMs: Math.min(200, watchdogTimeoutMs / 25),
    pollMs: 50,
  };
}
