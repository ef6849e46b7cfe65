/**
 * Simulation seeds 1-70: random 3- and 5-node clusters under random mixes of every fault kind,
 * with all safety checkers, the liveness check and the linearizability check (see run.ts).
 */
import { test } from 'node:test';
import { runSeeds } from './campaign.js';

test('simulation seeds 1-70 hold every invariant', async () => {
  await runSeeds(1, 70);
});
