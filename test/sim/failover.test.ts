/**
 * Seed 001's failover promise in simulation: with the default timings (heartbeat 100 ms,
 * election 300 ms randomized in [300, 600)) and no message loss, after the leader crashes a new
 * leader is elected and commits a write within 600 ms of virtual time in at least 99% of seeds.
 * Virtual time is deterministic, so this is an exact property of the code, not a timing guess.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { measureFailover, summarizeFailover } from '../../src/sim/failover.js';
import { percentile } from '../../src/util/stats.js';

test('failover commits within 600 ms of virtual time in at least 99% of 300 seeds', async () => {
  const samples = [];
  for (let seed = 1; seed <= 300; seed++) samples.push(await measureFailover(seed));
  const times = samples.flatMap((s) => (s.ms === null ? [] : [s.ms])).sort((a, b) => a - b);
  const within = times.filter((t) => t <= 600).length;
  assert.ok(within >= 0.99 * samples.length, summarizeFailover(samples));
  // A crash is detected no sooner than the minimum election timeout minus one heartbeat.
  assert.ok(percentile(times, 1) >= 190, summarizeFailover(samples));
});
