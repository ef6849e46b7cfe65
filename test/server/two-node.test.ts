/**
 * The two_node watch on its own, with a scripted Raft status and clock: it waits for a leader of
 * the pair since start (wait_for_all), fences only after the leaderless delay (longer for the
 * node whose id sorts second), takes over only when a device succeeded and no leader came back
 * meanwhile, and retries later when the devices fail.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RaftStatus } from '../../src/raft/index.js';
import { defaultFencingConfig, type FencingConfig } from '../../src/state/index.js';
import { tieBreakMs, TwoNodeWatch, type FenceResult } from '../../src/server/two-node.js';
import { silentLogger } from '../../src/util/log.js';

const electionTimeoutMs = 300;
const device = { level: 1, devices: [{ name: 'power', command: '/bin/true', args: [], timeoutMs: 1000, retries: 0 }] };

function setup(id: string, fenceAnswer: () => FenceResult) {
  const world = { leader: null as string | null, voters: ['node-1', 'node-2'], now: 0, config: { ...defaultFencingConfig, levels: [device], twoNode: true } as FencingConfig };
  const fenced: string[] = [];
  const takeovers: string[] = [];
  const watch = new TwoNodeWatch({
    id,
    status: () => ({ conf: { voters: world.voters, learners: [] }, leader: world.leader }) as unknown as RaftStatus,
    fencing: () => world.config,
    addressOf: (peer) => `10.0.0.${peer.slice(-1)}`,
    now: () => world.now,
    electionTimeoutMs,
    fence: (_levels, target) => {
      fenced.push(`${target.id}@${target.address}`);
      return Promise.resolve(fenceAnswer());
    },
    takeOver: (peer) => takeovers.push(peer),
    log: silentLogger,
  });
  return { world, watch, fenced, takeovers };
}

async function at(s: ReturnType<typeof setup>, now: number): Promise<void> {
  s.world.now = now;
  s.watch.tick();
  await sleep(0);
}

test('wait_for_all: no leader of the pair seen since start, so the peer is never fenced', async () => {
  const s = setup('node-1', () => ({ fenced: true, detail: 'ok' }));
  for (let t = 0; t <= 60_000; t += 1000) await at(s, t);
  assert.deepEqual(s.fenced, []);
  assert.match(s.watch.waiting() ?? '', /node-1 has not seen a leader of the pair since it started \(wait_for_all\)/);
});

test('after the pair had a leader: the first node fences after 2 election timeouts, the second one tieBreakMs later', async () => {
  for (const [id, delay] of [['node-1', 2 * electionTimeoutMs], ['node-2', 2 * electionTimeoutMs + tieBreakMs]] as const) {
    const s = setup(id, () => ({ fenced: true, detail: 'level 1: power ok' }));
    s.world.leader = 'node-1';
    await at(s, 0);
    assert.equal(s.watch.waiting(), null);
    s.world.leader = null;
    await at(s, 1000);
    await at(s, 1000 + delay - 1);
    assert.deepEqual(s.fenced, [], `${id} waits`);
    await at(s, 1000 + delay);
    const peer = id === 'node-1' ? 'node-2' : 'node-1';
    assert.deepEqual(s.fenced, [`${peer}@10.0.0.${peer.slice(-1)}`]);
    assert.deepEqual(s.takeovers, [peer]);
  }
});

test('devices failing: no takeover, retried 10 s later; a leader back during fencing: no takeover; not a pair: nothing', async () => {
  const failing = setup('node-1', () => ({ fenced: false, detail: 'level 1: power failed' }));
  failing.world.leader = 'node-2';
  await at(failing, 0);
  failing.world.leader = null;
  await at(failing, 1);
  await at(failing, 1000);
  await at(failing, 5000);
  assert.equal(failing.fenced.length, 1);
  await at(failing, 11_000);
  assert.equal(failing.fenced.length, 2);
  assert.deepEqual(failing.takeovers, []);

  const healed = setup('node-1', () => {
    healed.world.leader = 'node-2';
    return { fenced: true, detail: 'ok' };
  });
  healed.world.leader = 'node-2';
  await at(healed, 0);
  healed.world.leader = null;
  await at(healed, 1);
  await at(healed, 1000);
  assert.equal(healed.fenced.length, 1);
  assert.deepEqual(healed.takeovers, [], 'the pair has a leader again: nothing is taken over');

  const three = setup('node-1', () => ({ fenced: true, detail: 'ok' }));
  three.world.voters = ['node-1', 'node-2', 'node-3'];
  three.world.leader = 'node-2';
  await at(three, 0);
  three.world.leader = null;
  for (let t = 1; t < 30_000; t += 1000) await at(three, t);
  assert.deepEqual(three.fenced, []);
});
