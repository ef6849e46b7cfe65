/**
 * Graceful stop on real processes (127.0.14.1-3): SIGTERM on the leader hands leadership to
 * another voter before the process exits (exit code 0), so writes through the others pause
 * only briefly; the pause is reported. The stopped node restarts and rejoins with its data.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { E2eCluster } from './harness.js';

test('SIGTERM on the leader transfers leadership first and exits cleanly', async (t) => {
  const cluster = await E2eCluster.create({ block: 14 });
  t.after(() => cluster.stop());
  await cluster.startAll();
  const leader = await cluster.waitForLeader([0, 1, 2]);
  const via = [0, 1, 2].find((i) => i !== leader) ?? 0;
  const child = cluster.processes[leader];
  assert.ok(child !== null && child !== undefined);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const control = { writing: true };
  let longestGapMs = 0;
  const writer = (async () => {
    let last = Date.now();
    for (let n = 0; control.writing; n++) {
      const put = await cluster.put(via, 'ticker', String(n)).catch(() => null);
      if (put?.status !== 200) continue;
      const now = Date.now();
      longestGapMs = Math.max(longestGapMs, now - last);
      last = now;
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.kill('SIGTERM');
  assert.equal(await exited, 0, 'the node exits with status 0 after SIGTERM');
  cluster.processes[leader] = null;
  const next = await cluster.waitForLeader([0, 1, 2].filter((i) => i !== leader));
  await new Promise((resolve) => setTimeout(resolve, 300));
  control.writing = false;
  await writer;
  assert.notEqual(next, leader);
  t.diagnostic(`longest pause between acknowledged writes across the SIGTERM: ${longestGapMs} ms`);

  await cluster.start(leader);
  await cluster.waitForLeader([0, 1, 2]);
  const got = await cluster.get(leader, 'ticker');
  assert.equal(got.status, 200);
});
