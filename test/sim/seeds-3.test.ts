/**
 * Simulation seeds 141-210, and a coverage check over all seeds of this file: both cluster
 * sizes and every fault kind must have been exercised, so a change to the seed-to-profile
 * mapping cannot silently stop testing a fault.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { faultKinds } from '../../src/sim/nemesis.js';
import { runSeeds } from './campaign.js';

test('simulation seeds 141-210 hold every invariant and cover every fault kind', async () => {
  const results = await runSeeds(141, 210);
  const sizes = new Set(results.map((r) => r.nodes));
  assert.deepEqual([...sizes].sort(), [3, 5]);
  for (const kind of faultKinds) {
    const seeds = results.filter((r) => r.faults.includes(kind));
    assert.ok(seeds.length >= 10, `fault ${kind} ran in only ${seeds.length} seeds`);
    assert.ok(seeds.some((r) => r.nodes === 3) && seeds.some((r) => r.nodes === 5), `fault ${kind} not run on both cluster sizes`);
  }
  // The runs did real work: every seed committed entries and recorded operations, and a
  // typical seed many (heavy fault mixes such as leader churn legitimately do little).
  for (const r of results) assert.ok(r.stats.operations > 0 && r.stats.committed > 0, `seed ${r.seed} did nothing`);
  const operations = results.map((r) => r.stats.operations).sort((a, b) => a - b);
  assert.ok((operations[Math.floor(operations.length / 2)] ?? 0) > 100, `median operations per seed ${operations[Math.floor(operations.length / 2)]}`);
});
