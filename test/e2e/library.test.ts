/**
 * The embeddable library (seed 001) with real sockets and real files: three ClusterCoordinators
 * in this process, on 127.0.20.1-3 port 5432 (the seed's port), pointed at each other by
 * address only and started in reverse order with a pause between them. Checks that they elect
 * one leader and see three nodes, that a write through a follower reads back on the others,
 * that metrics and leader-change events are reported, that a fourth coordinator started later
 * with the three as peers joins as a learner and is promoted to voter without restarting
 * anyone (section 9), and that stopping the leader lets the others elect a new one.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterCoordinator, type ClusterConfig } from '../../src/index.js';

const host = (i: number): string => `127.0.20.${i}`;
const address = (i: number): string => `${host(i)}:5432`;

function config(dir: string, i: number, peers: readonly number[]): ClusterConfig {
  return {
    nodeId: `node${i}`,
    listenAddress: address(i),
    peerAddresses: peers.filter((p) => p !== i).map(address),
    dataDir: join(dir, `node${i}`),
    clusterSecret: 'library-test-secret-0123',
    electionTimeoutMs: 300,
    heartbeatIntervalMs: 100,
  };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('three coordinators form a cluster in any boot order, replicate, and take in a late fourth node', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-library-'));
  const coordinators = new Map<number, ClusterCoordinator>();
  t.after(async () => {
    for (const c of coordinators.values()) await c.stop();
    await rm(dir, { recursive: true, force: true });
  });
  const founders = [1, 2, 3];
  const leaderEvents: (string | null)[] = [];
  const starts = founders.reverse().map(async (i, order) => {
    await sleep(order * 300);
    const c = ClusterCoordinator.create(config(dir, i, [1, 2, 3]));
    coordinators.set(i, c);
    c.on('leaderChanged', ({ leader }) => leaderEvents.push(leader));
    await c.start();
  });
  await Promise.all(starts);
  const c1 = coordinators.get(1);
  assert.ok(c1 !== undefined);
  const leader = await until('a leader', () => c1.getState().leader ?? undefined);
  for (const c of coordinators.values()) {
    const state = await until('agreement on the leader', () => (c.getState().leader === leader ? c.getState() : undefined));
    assert.equal(state.nodes.length, 3);
    assert.ok(state.term >= 1);
  }
  await until('a leaderChanged event naming the leader', () => (leaderEvents.includes(leader) ? true : undefined));

  const follower = [...coordinators.entries()].find(([i]) => `node${i}` !== leader);
  assert.ok(follower !== undefined);
  const { revision } = await follower[1].kv.put('greeting', 'hello');
  assert.ok(revision > 1);
  for (const c of coordinators.values()) {
    const kv = await c.kv.get('greeting');
    assert.equal(new TextDecoder().decode(kv?.value), 'hello');
  }
  assert.equal(await follower[1].kv.compareAndSwap('greeting', revision, 'hi'), true);
  assert.equal(await follower[1].kv.compareAndSwap('greeting', revision, 'stale'), false);

  const metrics = follower[1].getMetrics();
  assert.ok(metrics.consensusMetrics.entriesAppended >= 2);
  assert.ok(metrics.consensusMetrics.lastAppliedIndex >= metrics.consensusMetrics.entriesCommitted - 1);
  assert.equal(metrics.healthMetrics.peers.length, 2);

  // Section 9: a node started later with the existing members as peers joins and is promoted.
  const promotions: string[][] = [];
  const c4 = ClusterCoordinator.create(config(dir, 4, [1, 2, 3, 4]));
  coordinators.set(4, c4);
  c1.on('membershipChanged', ({ voters }) => promotions.push([...voters]));
  await c4.start();
  await until('node4 promoted to voter', () => (c1.getState().nodes.find((n) => n.id === 'node4')?.voter === true ? true : undefined), 15_000);
  const replicated = await c4.kv.get('greeting');
  assert.equal(new TextDecoder().decode(replicated?.value), 'hi', 'node4 caught up (linearizable read through it)');
  await until('a membershipChanged event listing node4 as voter', () => (promotions.some((voters) => voters.includes('node4')) ? true : undefined));

  // Stopping the leader hands leadership over; the others keep a leader and accept writes.
  const leaderIndex = Number(leader.replace('node', ''));
  const old = coordinators.get(leaderIndex);
  coordinators.delete(leaderIndex);
  await old?.stop();
  const survivor = [...coordinators.values()][0];
  assert.ok(survivor !== undefined);
  const next = await until('a new leader', () => {
    const l = survivor.getState().leader;
    return l !== null && l !== leader ? l : undefined;
  });
  assert.notEqual(next, leader);
  await survivor.kv.put('after', 'stop');
});
