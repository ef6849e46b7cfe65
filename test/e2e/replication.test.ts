/**
 * Three real `quorate server` processes on 127.0.10.1-3 (same ports) replicate a KV and
 * survive the loss of any one of them:
 * - a key written through each node reads back through the others (linearizable reads);
 * - after SIGKILL of the leader, writes through the survivors succeed again; the gap between
 *   the last write acknowledged before the kill and the first one after it is reported;
 * - the killed node, restarted after the others wrote far more than its snapshot interval
 *   (snapshot_entries = 200, 50 trailing entries), catches up through a snapshot and holds
 *   exactly the same data as the others (compared key by key with serializable reads on it).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { E2eCluster } from './harness.js';

test('three processes replicate, fail over after SIGKILL, and a restarted node catches up by snapshot', async (t) => {
  const cluster = await E2eCluster.create({ block: 10, extraConfig: 'snapshot_entries = 200\nsnapshot_trailing_entries = 50' });
  t.after(() => cluster.stop());
  await cluster.startAll();
  const leader = await cluster.waitForLeader([0, 1, 2]);

  // Writes through every node, reads through every other.
  for (let i = 0; i < 3; i++) {
    const put = await cluster.put(i, `written-via-${i + 1}`, `value-${i + 1}`);
    assert.equal(put.status, 200, JSON.stringify(put.body));
  }
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const got = await cluster.get(j, `written-via-${i + 1}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.value, `value-${i + 1}`);
    }
  }

  // Kill the leader under a write loop through a survivor; measure the gap.
  const survivors = [0, 1, 2].filter((i) => i !== leader);
  const via = survivors[0] ?? 0;
  let lastBefore = Date.now();
  for (let n = 0; n < 20; n++) {
    assert.equal((await cluster.put(via, 'before-kill', String(n))).status, 200);
    lastBefore = Date.now();
  }
  await cluster.signal(leader, 'SIGKILL');
  let firstAfter: number | null = null;
  for (let attempt = 0; firstAfter === null && attempt < 400; attempt++) {
    const put = await cluster.put(via, 'after-kill', String(attempt)).catch(() => null);
    if (put?.status === 200) firstAfter = Date.now();
  }
  assert.ok(firstAfter !== null, 'writes resumed through the survivors');
  t.diagnostic(`failover gap (last ack before SIGKILL -> first ack after): ${firstAfter - lastBefore} ms`);
  const newLeader = await cluster.waitForLeader(survivors);
  assert.notEqual(newLeader, leader);

  // Far more writes than the snapshot interval while the old leader is down.
  const expected = new Map<string, string>();
  for (let n = 0; n < 600; n += 20) {
    await Promise.all(
      Array.from({ length: 20 }, async (_, k) => {
        const key = `bulk-${String(n + k).padStart(4, '0')}`;
        const put = await cluster.put(survivors[k % 2] ?? 0, key, `v${n + k}`);
        assert.equal(put.status, 200);
        expected.set(key, `v${n + k}`);
      }),
    );
  }
  await cluster.start(leader);
  const target = (await cluster.status(survivors[0] ?? 0)).appliedIndex as number;
  const deadline = Date.now() + 20_000;
  while (((await cluster.status(leader)).appliedIndex as number) < target) {
    assert.ok(Date.now() < deadline, 'the restarted node caught up');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (const [key, value] of expected) {
    const got = await cluster.get(leader, key, 'serializable');
    assert.equal(got.body.value, value, `${key} on the restarted node`);
  }
  const list = async (i: number): Promise<unknown> => (await cluster.request(i, 'GET', '/v1/kv?prefix=bulk-&consistency=serializable')).body.kvs;
  assert.deepEqual(await list(leader), await list(survivors[0] ?? 0));
  assert.match(await readFile(join(cluster.dir, `n${leader + 1}.log`), 'utf8'), /installed a snapshot from the leader/);
});
