/**
 * Seeds that once failed, replayed forever. Each entry says what went wrong; the seed must now
 * pass every check.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSimulation } from '../../src/sim/run.js';

const regressions: readonly { seed: number; what: string }[] = [
  {
    seed: 4158,
    what: 'a false "two leaders in term 7": the checker read the node\'s current term instead of the term its Ready described',
  },
  {
    seed: 189,
    what: 'a client hung forever: a proposal waiter was overwritten when the node, leading again, appended at the same index',
  },
];

for (const { seed, what } of regressions) {
  test(`seed ${seed}: ${what}`, async () => {
    const result = await runSimulation({ seed });
    assert.equal(result.failure, null, JSON.stringify(result.failure));
  });
}
