/**
 * Linearizable reads share ReadIndex rounds: many reads issued together on a follower of a
 * simulated 3-node cluster all complete, and reach the leader as far fewer MsgReadIndex
 * requests than reads (one round for the first read, one for all that arrived while it was in
 * flight). Each read that arrives during a round still waits for a later one, which the
 * simulator's linearizability checker covers; this test checks the batching itself.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimCluster } from '../../src/sim/cluster.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { Trace } from '../../src/sim/trace.js';
import { Prng } from '../../src/util/prng.js';

test('concurrent reads on a follower share ReadIndex rounds and all complete', async () => {
  const scheduler = new Scheduler();
  const trace = new Trace(true);
  const cluster = new SimCluster(scheduler, new Prng(7), trace, 3, { requestTimeoutMs: 1000 });
  await cluster.startAll();
  await scheduler.runUntil(2000, () => cluster.leader() !== undefined);
  // Let the leader commit its term's first entry, which ReadIndex waits for.
  await scheduler.runUntil(scheduler.now() + 200);
  const leader = cluster.leader();
  const follower = cluster.live().find((n) => n.id !== leader?.id)?.node;
  assert.ok(leader !== undefined && follower !== undefined && follower !== null);

  const readsMax = 50;
  let completed = 0;
  const asked = trace.all().length;
  for (let i = 0; i < readsMax; i++) void follower.read().then(() => completed++);
  await scheduler.runUntil(scheduler.now() + 500, () => completed === readsMax);

  assert.equal(completed, readsMax);
  const requests = trace.all().slice(asked).filter((line) => line.includes(`${follower.id}->${leader.id} MsgReadIndex `));
  assert.ok(requests.length <= 2, `${readsMax} reads made ${requests.length} ReadIndex requests`);
  assert.deepEqual(cluster.checker.violations, []);
});
