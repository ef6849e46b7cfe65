/**
 * Failover time under the default timings (heartbeat 100 ms, election 300 ms) with a healthy
 * network: a 3-node cluster under a steady write load loses its leader to a crash; the sample
 * is the virtual time from the crash until a write proposed after it commits on a new leader.
 */
import { Prng } from '../util/prng.js';
import { percentile } from '../util/stats.js';
import { SimCluster } from './cluster.js';
import { encodeCommand } from './register-machine.js';
import { Scheduler } from './scheduler.js';
import { Trace } from './trace.js';

export interface FailoverSample {
  readonly seed: number;
  /** Milliseconds from the crash to the first acknowledged write, or null if none within 5 s. */
  readonly ms: number | null;
}

const warmupMs = 2000;
const windowMs = 5000;

export async function measureFailover(seed: number): Promise<FailoverSample> {
  const prng = new Prng(seed);
  const scheduler = new Scheduler();
  const cluster = new SimCluster(scheduler, prng.fork(), new Trace(false), 3, { requestTimeoutMs: 1000 });
  await cluster.startAll();
  // Crash at a random phase relative to the heartbeats, not always right after one.
  const crashAt = warmupMs + prng.int(0, 100);
  // Written by callbacks that run inside the scheduler, read after it returns.
  const outcome: { crashed: boolean; recoveredAt: number | null } = { crashed: false, recoveredAt: null };
  const write = (): void => {
    if (outcome.recoveredAt !== null) return;
    const leader = cluster.leader()?.node;
    const proposedAt = scheduler.now();
    try {
      leader?.propose(encodeCommand({ op: 'put', key: 'k', value: String(proposedAt) })).then(
        () => {
          if (outcome.crashed && proposedAt >= crashAt) outcome.recoveredAt ??= scheduler.now();
        },
        () => undefined,
      );
    } catch {
      // No leader yet: the client retries with the next write.
    }
    scheduler.after(5, write);
  };
  write();
  scheduler.at(crashAt, () => {
    const leader = cluster.leader();
    if (leader !== undefined) cluster.crash(leader.id);
    outcome.crashed = true;
  });
  await scheduler.runUntil(crashAt + windowMs, () => outcome.recoveredAt !== null);
  if (cluster.checker.violations.length > 0) throw new Error(`safety violation in failover seed ${seed}: ${cluster.checker.violations.join('; ')}`);
  return { seed, ms: outcome.recoveredAt === null ? null : outcome.recoveredAt - crashAt };
}

export function summarizeFailover(samples: readonly FailoverSample[]): string {
  const times = samples.flatMap((s) => (s.ms === null ? [] : [s.ms])).sort((a, b) => a - b);
  const within = times.filter((t) => t <= 600).length;
  return [
    `failover over ${samples.length} seeds (3 nodes, heartbeat 100 ms, election 300 ms, no loss):`,
    `  p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms, max ${(times[times.length - 1] ?? NaN).toFixed(1)} ms`,
    `  within 600 ms: ${within}/${samples.length} (${((100 * within) / samples.length).toFixed(1)}%); no recovery: ${samples.length - times.length}`,
  ].join('\n');
}
