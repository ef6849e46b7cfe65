/**
 * Quorum on real processes (127.0.11.1-3, same ports):
 * - with two of three nodes SIGKILLed, a write through the survivor fails with 503 no_quorum
 *   within a bounded time (request_timeout_ms = 2000 here), and writes succeed again once a
 *   second node is back; every write acknowledged before is still there;
 * - SIGSTOP of the leader for longer than the election timeout: the others elect a new
 *   leader and take writes; after SIGCONT the old leader steps down, and a linearizable read
 *   through it returns the newest value (never the one from before the pause).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { E2eCluster } from './harness.js';

const requestTimeoutMs = 2000;

test('without a majority writes fail with no_quorum in bounded time, and nothing acknowledged is lost', async (t) => {
  const cluster = await E2eCluster.create({ block: 11, extraConfig: `request_timeout_ms = ${requestTimeoutMs}` });
  t.after(() => cluster.stop());
  await cluster.startAll();
  await cluster.waitForLeader([0, 1, 2]);
  const acknowledged = new Map<string, string>();
  for (let n = 0; n < 30; n++) {
    const put = await cluster.put(n % 3, `k${n}`, `v${n}`);
    assert.equal(put.status, 200);
    acknowledged.set(`k${n}`, `v${n}`);
  }
  await cluster.signal(1, 'SIGKILL');
  await cluster.signal(2, 'SIGKILL');
  const began = Date.now();
  const refused = await cluster.put(0, 'lonely', 'x');
  const elapsed = Date.now() - began;
  assert.equal(refused.status, 503);
  assert.equal(refused.body.code, 'no_quorum');
  assert.ok(elapsed < requestTimeoutMs + 3000, `no_quorum took ${elapsed} ms`);
  t.diagnostic(`no_quorum answered after ${elapsed} ms (request_timeout_ms = ${requestTimeoutMs})`);
  const read = await cluster.get(0, 'k1');
  assert.equal(read.status, 503, 'a linearizable read without quorum fails too');

  await cluster.start(1);
  await cluster.waitForLeader([0, 1]);
  let resumed = false;
  for (let attempt = 0; attempt < 100 && !resumed; attempt++) resumed = (await cluster.put(0, 'back', 'yes')).status === 200;
  assert.ok(resumed, 'writes succeed again with two of three nodes');
  for (const [key, value] of acknowledged) {
    for (const i of [0, 1]) assert.equal((await cluster.get(i, key)).body.value, value, `${key} on node ${i + 1}`);
  }
});

test('a paused leader is replaced, and after SIGCONT it steps down and serves no stale read', async (t) => {
  const cluster = await E2eCluster.create({ block: 12, extraConfig: `request_timeout_ms = ${requestTimeoutMs}` });
  t.after(() => cluster.stop());
  await cluster.startAll();
  const old = await cluster.waitForLeader([0, 1, 2]);
  assert.equal((await cluster.put(old, 'register', 'before-pause')).status, 200);
  await cluster.signal(old, 'SIGSTOP');
  const others = [0, 1, 2].filter((i) => i !== old);
  const next = await cluster.waitForLeader(others);
  assert.notEqual(next, old);
  assert.equal((await cluster.put(next, 'register', 'during-pause')).status, 200);
  await sleep(400);
  await cluster.signal(old, 'SIGCONT');
  // The first request after waking goes to the old leader, which still believes it leads.
  const read = await cluster.get(old, 'register');
  if (read.status === 200) assert.equal(read.body.value, 'during-pause', 'no stale read from the deposed leader');
  else assert.equal(read.status, 503);
  const agreed = await cluster.waitForLeader([0, 1, 2]);
  assert.notEqual(agreed, old, 'the old leader stepped down');
  assert.equal((await cluster.get(old, 'register')).body.value, 'during-pause');
});
