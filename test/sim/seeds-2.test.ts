/**
 * Simulation seeds 71-140: random 3- and 5-node clusters under random mixes of every fault kind,
 * with all safety checkers, the liveness check and the linearizability check (see run.ts).
 */
import { test } from 'node:test';
import { runSeeds } from './campaign.js';

test('simulation seeds 71-140 hold every invariant', async () => {
  await runSeeds(71, 140);
});
