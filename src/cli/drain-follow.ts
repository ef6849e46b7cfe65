/**
 * `quorate node drain NODE` waits until the node runs nothing: the leader moves its allocations
 * one at a time (a replacement runs elsewhere before the old copy stops), so the command polls
 * the jobs and shows the allocations still on the node until the last one has ended.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobStatusJson } from '../api/index.js';
import type { QuorateClient } from '../client/index.js';
import { RateMeter, formatEta, type ProgressLine } from './progress.js';

const drainPollMs = 1_000;
/** Named in the progress line; more are counted only. */
const shownAllocationsMax = 4;

export interface AllocationLeft {
  readonly id: string;
  /** The leader has placed its replacement and asked this copy to stop. */
  readonly stopping: boolean;
}

/** The allocations on `node` that have not ended (running, starting, or stopping). */
export function allocationsLeft(statuses: readonly JobStatusJson[], node: string, isEnded: (a: JobStatusJson['allocations'][number]) => boolean): AllocationLeft[] {
  return statuses.flatMap((status) => status.allocations.filter((a) => a.node === node && !isEnded(a)).map((a) => ({ id: a.id, stopping: a.desired === 'stop' })));
}

/** `node-3 draining: 2 allocations still to move (web.0.1a2b, db.1.ffee stopping), ETA 40s`. */
export function drainLine(node: string, left: readonly AllocationLeft[], etaMs: number | null): string {
  const named = left.slice(0, shownAllocationsMax).map((a) => (a.stopping ? `${a.id} stopping` : a.id));
  const more = left.length > shownAllocationsMax ? `, and ${left.length - shownAllocationsMax} more` : '';
  const noun = left.length === 1 ? 'allocation' : 'allocations';
  return `${node} draining: ${left.length} ${noun} still to move (${named.join(', ')}${more}), ${formatEta(etaMs)}`;
}

/** Polls until `node` runs no allocation; `progress` (null with --json) shows what is left. */
export async function followDrain(client: QuorateClient, node: string, progress: ProgressLine | null): Promise<void> {
  const { isEnded } = await import('../state/index.js');
  const meter = new RateMeter(30_000);
  let total: number | null = null;
  for (;;) {
    const jobs = await client.listJobs();
    const left = allocationsLeft(await Promise.all(jobs.map((job) => client.jobStatus(job.name))), node, isEnded);
    if (left.length === 0) return;
    // Moved so far against what was there at the start: the rate of moves gives the ETA.
    total = Math.max(total ?? 0, left.length);
    meter.add(Date.now(), total - left.length, total);
    progress?.update(drainLine(node, left, meter.etaMs()));
    await sleep(drainPollMs);
  }
}
