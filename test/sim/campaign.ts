/**
 * Shared by the seed-range test files: run a range of simulation seeds and fail with every
 * failing seed's replay command. The range is split over several files so the test runner
 * spreads them over both cores.
 */
import assert from 'node:assert/strict';
import { replayCommand, runSimulation, type SimResult } from '../../src/sim/run.js';

export async function runSeeds(from: number, to: number): Promise<SimResult[]> {
  const results: SimResult[] = [];
  const failures: string[] = [];
  for (let seed = from; seed <= to; seed++) {
    const result = await runSimulation({ seed });
    results.push(result);
    if (result.failure !== null) {
      failures.push(`seed ${seed} (${result.nodes} nodes, ${result.faults.join(',')}): ${result.failure.kind}: ${result.failure.message.slice(0, 500)}\n  replay: ${replayCommand({ seed })} --trace`);
    }
  }
  assert.deepEqual(failures, [], `simulation failures:\n${failures.join('\n')}`);
  return results;
}
