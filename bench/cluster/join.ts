/**
 * The join workload: a fourth node joins a cluster that holds the fill's data, by each system's
 * own procedure (target.join), and the time from starting it to its promotion to voter is
 * measured by the target (so that a precondition etcd checks first does not count). The node is then removed and its data deleted, so that every run joins the same
 * cluster from nothing and the fill is written once per target, not once per run.
 */
import type { ClusterTarget } from './target.js';

/** Runs `runs` joins and returns their durations in seconds, in order. */
export async function measureJoins(target: ClusterTarget, runs: number, onJoin: (seconds: number) => void): Promise<number[]> {
  const durations: number[] = [];
  for (let run = 0; run < runs; run++) {
    const seconds = await target.join();
    await target.removeJoined();
    durations.push(seconds);
    onJoin(seconds);
  }
  return durations;
}
