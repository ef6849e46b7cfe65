/**
 * The real pieces together: a single-voter RaftNode (the same driver the simulator runs) on
 * DiskStorage with the system clock applies writes to the simulator's register machine, takes
 * snapshots when the core asks, compacts the WAL, and after a stop and restart from the same
 * data directory comes back with exactly the same state (restored from the newest snapshot plus
 * the log after it), and keeps accepting writes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bootstrapState, type RaftNode } from '../../src/node/index.js';
import { RegisterMachine, encodeCommand, type RegisterResult } from '../../src/sim/register-machine.js';
import { DiskStorage } from '../../src/storage/index.js';
import { startSingleVoter } from '../node/single-voter.js';

async function startNode(dir: string, machine: RegisterMachine): Promise<{ node: RaftNode<RegisterResult>; storage: DiskStorage }> {
  const storage = await DiskStorage.open({ dir, segmentBytesMax: 16 * 1024 });
  const node = await startSingleVoter(storage, machine, { snapshotEntries: 50, snapshotTrailingEntries: 10 });
  return { node, storage };
}

async function waitForLeader(node: RaftNode<RegisterResult>): Promise<void> {
  for (let i = 0; i < 200 && node.basicStatus().role !== 'leader'; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(node.basicStatus().role, 'leader');
}

test('a node on disk snapshots, compacts, restarts and restores its state machine', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-node-'));
  try {
    const boot = bootstrapState(['n1'], new RegisterMachine().snapshot());
    const first = await DiskStorage.open({ dir });
    await first.load();
    await first.save({ hardState: boot.hardState, entries: [], snapshot: boot.snapshot, sync: true });
    await first.close();

    const before = new RegisterMachine();
    const { node, storage } = await startNode(dir, before);
    await waitForLeader(node);
    // Concurrent proposals: the driver groups them into few writes and fdatasyncs.
    await Promise.all(Array.from({ length: 400 }, (_, i) => node.propose(encodeCommand({ op: 'put', key: `k${i % 37}`, value: `v${i}` }))));
    const stats = storage.walStats();
    assert.ok(stats.fdatasyncs < 400, `group commit: ${stats.fdatasyncs} fdatasyncs for 400 proposals`);
    // Snapshots are written in the background, and a proposal resolves once it is applied,
    // which may be before the snapshot it made due is on disk: wait for one (beside the
    // bootstrap snapshot) before stopping.
    const snapshotFiles = async (): Promise<number> => (await readdir(join(dir, 'snap'))).length;
    for (let i = 0; i < 250 && (await snapshotFiles()) < 2; i++) await new Promise((r) => setTimeout(r, 20));
    node.stop();
    await storage.close();
    assert.ok((await snapshotFiles()) >= 2, 'snapshots were taken');

    const after = new RegisterMachine();
    const restarted = await startNode(dir, after);
    await waitForLeader(restarted.node);
    await restarted.node.read();
    assert.equal(after.fingerprint(), before.fingerprint());
    assert.equal(after.get('k5'), before.get('k5'));
    await restarted.node.propose(encodeCommand({ op: 'put', key: 'k5', value: 'after-restart' }));
    assert.equal(after.get('k5'), 'after-restart');
    restarted.node.stop();
    await restarted.storage.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
