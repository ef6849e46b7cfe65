/**
 * Replay: two runs of one seed produce identical traces (every delivered message, role change,
 * crash and nemesis action, with its virtual time), so a failing seed can be replayed exactly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSimulation } from '../../src/sim/run.js';

test('two runs of a seed produce identical traces', async () => {
  for (const seed of [7, 42]) {
    const a = await runSimulation({ seed, keepTrace: true });
    const b = await runSimulation({ seed, keepTrace: true });
    assert.ok(a.trace.lines > 500, `the trace records the run (${a.trace.lines} lines)`);
    assert.equal(a.traceHash, b.traceHash);
    assert.deepEqual(a.trace.all(), b.trace.all());
  }
});

test('different seeds produce different runs', async () => {
  const a = await runSimulation({ seed: 1 });
  const b = await runSimulation({ seed: 2 });
  assert.notEqual(a.traceHash, b.traceHash);
});
