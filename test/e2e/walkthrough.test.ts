/**
 * Seed 000, as written, with `quorate` on 127.0.33.1-3: init, join-token, two joins; status
 * shows 3 nodes, `quorum: ok (2/3 required)`, one leader and equal applied indexes. The
 * leader is killed: a survivor's status shows a new leader and `quorum: ok`; the killed node
 * restarts, rejoins as a follower and catches up. `cluster leave` on one node leaves 2 voters
 * and status warns; a fresh node joins to replace it and is promoted.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ClusterStatusJson } from '../../src/api/index.js';
import { spawnCli } from '../cli/run-cli.js';
import { CliNodes, until, type CliNode } from './cli-nodes.js';

let nodes: CliNodes;

before(async () => {
  nodes = await CliNodes.create('walkthrough');
});

after(async () => {
  await nodes.cleanup();
});

function appliedAllEqual(view: ClusterStatusJson | null): ClusterStatusJson | null {
  if (view === null || !view.quorum.ok) return null;
  const applied = new Set(view.members.map((m) => m.report?.appliedIndex));
  return applied.size === 1 && !applied.has(undefined) ? view : null;
}

test('seed 000: form a 3-node cluster, survive the leader, leave and replace a node', async () => {
  const [n1, n2, n3, n4] = ['127.0.33.1', '127.0.33.2', '127.0.33.3', '127.0.33.4'].map((host) => nodes.node(host)) as [CliNode, CliNode, CliNode, CliNode];
  assert.match(await n1.ok('cluster', 'init', '--advertise', n1.host), /^cluster initialized\nnode-id: {2}node-1\nstate: {4}healthy\nnodes: {4}1\/1\n$/);
  await n1.ok('kv', 'put', 'before-joins', 'yes');
  const token = (await n1.ok('cluster', 'join-token', '--ttl', '1h')).trim();
  assert.match(token, /^qrt1_[A-Za-z0-9_-]+$/);
  const started = Date.now();
  const join2 = await n2.ok('cluster', 'join', '--token', token, '--advertise', n2.host, '--servers', `${n1.host}:8080`);
  assert.match(join2, /admitted as node-2/);
  assert.match(join2, /caught up; the leader promotes this learner when another server joins/, 'one voter and one learner: the leader waits for a second learner');
  const join3 = await n3.ok('cluster', 'join', '--token', token, '--advertise', n3.host, '--servers', `${n1.host}:8080,${n2.host}:8080`);
  assert.match(join3, /promoted to voter\ncluster joined\nnode-id: {2}node-3\nstate: {4}healthy\nnodes: {4}3\/3\n$/);
  const joinSeconds = (Date.now() - started) / 1000;
  process.stdout.write(`# two joins took ${joinSeconds.toFixed(1)} s (the first waits 2 s for its promotion, then reports the leader keeps the voters odd)\n`);

  const formed = await until('equal applied indexes on all three', async () => appliedAllEqual(await n2.status()));
  assert.equal(formed.voters, 3);
  assert.equal(formed.leader, 'node-1');
  const text = await n3.ok('cluster', 'status');
  assert.match(text, /^cluster: {2}3 nodes\nquorum: {3}ok \(2\/3 required\)\nleader: {3}node-1 \(127\.0\.33\.1\)\npeers:\n/);
  for (const node of [n1, n2, n3]) {
    const id = `node-${node.host.split('.').pop() ?? ''}`;
    assert.match(text, new RegExp(`^ {2}- ${id} {2}${node.host.replace(/\./g, '\\.')} {2}server {2}ready {2}applied=\\d+$`, 'm'));
  }
  assert.doesNotMatch(text, /warning/);
  assert.equal(await n3.ok('kv', 'get', 'before-joins'), 'yes', 'a joined node holds the data written before it joined');
  assert.match(await n2.ok('node', 'list'), /^node-1 +server +ready +\d+\.\d GB free +0 jobs\nnode-2 +server +ready .*\nnode-3 +server +ready .*\n$/);
  const info = await n1.ok('node', 'info', 'node-3');
  for (const field of [/^peer address: 127\.0\.33\.3:8081$/m, /^api address: {2}127\.0\.33\.3:8080$/m, /^role: {9}server \(follower\)$/m, /^term: {9}\d+$/m, /^last contact: \d+\.\ds ago \(as node-1 sees it\)$/m, /^applied: {6}\d+$/m, /^certificate: {2}expires \d{4}-/m, /^version: {6}\d+\.\d+\.\d+$/m, /^uptime: {7}/m]) {
    assert.match(info, field);
  }
  const removeLeader = await n2.run('node', 'remove', 'node-1');
  assert.equal(removeLeader.code, 1);
  assert.match(removeLeader.stderr, /node-1 is the leader: run `quorate cluster leave` on it/);

  // Kill the leader: a survivor sees a new leader and a quorum.
  await n1.kill();
  const failedOver = await until('a new leader among the survivors', async () => {
    const view = await n2.status();
    return view !== null && view.leader !== null && view.leader !== 'node-1' && view.quorum.ok ? view : null;
  });
  assert.match(await n2.ok('cluster', 'status'), new RegExp(`^leader: {3}${failedOver.leader ?? ''} `, 'm'));
  assert.match(await n2.ok('cluster', 'status'), /^quorum: {3}ok \(2\/3 required\)$/m);
  await n2.ok('kv', 'put', 'while-node-1-was-down', 'yes');

  // Restart it: it comes back as a follower and catches up.
  const restarted = spawnCli(['--data-dir', n1.dataDir, 'server']);
  try {
    const caughtUp = await until('node-1 back and caught up', async () => appliedAllEqual(await n3.status()));
    assert.equal(caughtUp.members.find((m) => m.id === 'node-1')?.report?.role, 'follower');
    assert.equal(await n1.ok('kv', 'get', 'while-node-1-was-down'), 'yes');

    // One node leaves: 2 voters, and status says so.
    const leaver = failedOver.leader === 'node-2' ? n3 : n2;
    assert.match(await leaver.ok('cluster', 'leave'), /left the cluster and stopped/);
    const two = await until('two voters', async () => {
      const view = await n1.status();
      return view?.voters === 2 && view.quorum.ok ? view : null;
    });
    assert.equal(two.members.length, 2);
    assert.match(await n1.ok('cluster', 'status'), /^warning: 2 voters: no fault tolerance/m);
    const stale = await leaver.run('server');
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /left its cluster at .* and must not start again/);

    // A fresh node replaces it and is promoted at once (2 voters + 1 keeps the count odd).
    const fresh = await n4.ok('cluster', 'join', '--token', token, '--advertise', n4.host, '--servers', `${n2.host}:8080,${n1.host}:8080,${n3.host}:8080`);
    assert.match(fresh, /promoted to voter/);
    const replaced = await until('three voters again', async () => {
      const view = await n1.status();
      return view?.voters === 3 ? appliedAllEqual(view) : null;
    });
    assert.ok(replaced.members.some((m) => m.id === 'node-4' && m.voter));

    // Neither the join token nor the admin token appears in any node's log.
    const admin = (await readFile(join(n1.dataDir, 'admin.token'), 'utf8')).trim();
    for (const node of [n1, n2, n3, n4]) {
      const log = await readFile(join(node.dataDir, 'quorate.log'), 'utf8').catch(() => '');
      assert.ok(!log.includes(token.slice('qrt1_'.length)) && !log.includes(admin), `no secret in ${node.host}'s log`);
    }
  } finally {
    restarted.kill('SIGKILL');
  }
});
