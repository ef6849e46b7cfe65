/**
 * Membership of a TOML-configured cluster (seed 002) on real processes (127.0.15.1-3): the
 * admin token comes from `quorate cluster admin-token --config`, admin calls without it are
 * refused, `node remove` with --admin-token takes a member out through the log, and the same node
 * started again with an empty data directory joins as a learner and is promoted back to voter,
 * with every write made meanwhile.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli } from '../cli/run-cli.js';
import { adminToken, E2eCluster } from './harness.js';

interface StatusMember {
  readonly id: string;
  readonly voter: boolean;
}

async function voters(cluster: E2eCluster, i: number): Promise<string[]> {
  const members = (await cluster.status(i)).members as StatusMember[];
  return members.filter((m) => m.voter).map((m) => m.id);
}

test('a static cluster: admin token from the config, remove a member, add it back empty', async (t) => {
  const cluster = await E2eCluster.create({ block: 15 });
  t.after(() => cluster.stop());
  await cluster.startAll();
  const leader = await cluster.waitForLeader([0, 1, 2]);
  // A follower goes (the leader would have to leave instead, handing leadership over first).
  const gone = leader === 2 ? 1 : 2;
  const goneId = String(gone + 1);
  const others = [0, 1, 2].filter((i) => i !== gone).map((i) => String(i + 1));

  const printed = await runCli(['cluster', 'admin-token', '--config', cluster.configPath(0)]);
  assert.equal(printed.code, 0, printed.stderr);
  assert.equal(printed.stdout.trim(), adminToken, 'every node derives the same token from the cluster secret');

  const endpoints = ['--endpoints', `${cluster.api(0)},${cluster.api(1)}`, '--ca-file', cluster.caFile];
  const anonymous = await runCli([...endpoints, 'node', 'remove', goneId]);
  assert.equal(anonymous.code, 1);
  assert.match(anonymous.stderr, /needs a token \(Authorization: Bearer <token>\)/);
  const wrong = await runCli([...endpoints, '--admin-token', 'not-the-token', 'node', 'remove', goneId]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /the token is not valid for this cluster/);

  const removed = await runCli([...endpoints, 'node', 'remove', goneId], { QUORATE_ADMIN_TOKEN: adminToken });
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual((await voters(cluster, leader)).sort(), others);
  assert.equal((await cluster.put(leader, 'while-away', 'yes')).status, 200, 'two voters of two make a quorum');

  await cluster.signal(gone, 'SIGKILL');
  await rm(cluster.dataDir(gone), { recursive: true, force: true });
  await cluster.start(gone);
  const deadline = Date.now() + 20_000;
  while ((await voters(cluster, leader)).length < 3 && Date.now() < deadline) await sleep(100);
  assert.deepEqual((await voters(cluster, leader)).sort(), ['1', '2', '3'], 'the node came back as a voter');
  assert.equal((await cluster.get(gone, 'while-away', 'serializable')).body.value, 'yes', 'it caught up on the writes made while it was away');
});
