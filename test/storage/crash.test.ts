/**
 * Crash consistency of DiskStorage with real processes, real files and real fdatasync.
 *
 * A child process (crash-child.ts) appends batches to the WAL in a loop: appends, new terms,
 * follower overwrites of uncommitted suffixes, snapshots and compaction, with 64 KiB segments
 * so that rotation and compaction happen all the time. It prints every operation before it
 * starts and again once its promise resolved. The test SIGKILLs it at a seeded random moment,
 * recovers the directory in this process and checks (crash-campaign.ts, verifyRecovery):
 * - every acknowledged entry is there with its term and data, unless the recovered snapshot
 *   covers it, and the snapshot is the acknowledged one (or the one in flight);
 * - the log is contiguous after the snapshot, and every entry's data is intact;
 * - beyond the acknowledged log there is at most a prefix of the save in flight, which may
 *   have replaced acknowledged entries above the commit index (an overwrite);
 * - the hard state's commit lies between the snapshot and the last entry, its term is at least
 *   the acknowledged term and every entry's term;
 * - torn-tail warnings say how many bytes they dropped;
 * - the next child loads exactly the state the test recovered.
 * Once, while a child runs, opening its directory must fail with DataDirLocked naming its pid;
 * every recovery gets the lock although the killed child never released it.
 * A longer run of the same loop: node dist/test/storage/crash-campaign.js --iterations 5000.
 *
 * The last two tests are regressions for two bugs this suite found (see their comments).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry } from '../../src/raft/index.js';
import { DiskStorage } from '../../src/storage/index.js';
import { formatStats, runCrashLoop, startChild } from './crash-campaign.js';
import { entryData } from './crash-child.js';

test('a SIGKILLed writer never loses an acknowledged entry, and recovery is consistent', async (t) => {
  const began = performance.now();
  // The writer moves the commit index into the entries of the very batch that starts a new term
  // (as a follower does on a new leader's first append): that once broke recovery, see below.
  const child = { waitForGo: false };
  const stats = await runCrashLoop({ iterations: 180, seed: 20240601, checkLock: true, child });
  t.diagnostic(`${formatStats(stats)} in ${((performance.now() - began) / 1000).toFixed(1)} s`);
  assert.ok(stats.lockChecked, 'the lock was checked against a running child');
  // The loop is only meaningful if the child got to do everything it does.
  assert.ok(stats.acks > 1000 && stats.snapshots > 20 && stats.overwrites > 20 && stats.earlyKills > 10, formatStats(stats));
});

function entries(from: number, to: number, term: number): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({ type: 'normal', index: from + i, term, data: entryData(from + i, term) }));
}

/**
 * DiskStorage.save writes a changed term to the hard state file, together with the update's
 * commit index, and only then the entries to the WAL. A follower's first append from a new
 * leader changes the term, appends entries and moves the commit index into them (Raft's
 * min(leaderCommit, index of last new entry)). A crash between the two writes leaves a hard
 * state whose commit index lies beyond the log on disk, and load() then refuses to start: it
 * takes that commit index for a durable promise and reports the WAL as corrupt (or the data as
 * inconsistent). The state below is exactly that: the save of { term 2, commit 15, entries
 * 11..15 } stopped after its first step, writeHardState. Nothing acknowledged is missing (that
 * save never resolved), so the node must start, with its log and a commit index within it.
 */
test('a crash between the hard state file and the WAL write of one save leaves a directory that loads', async () => {
  // A follower's first append from a new leader changes the term (so the hard state file is
  // written first) and moves commit into the entries of that same save. The disk state of a
  // crash between the two writes is made here with the real save path: the WAL directory is
  // copied before the save and put back after it, leaving the new hard state file with the old
  // WAL. Once, the file carried the new commit index and the directory refused to load.
  const dir = await mkdtemp(join(tmpdir(), 'quorate-crash-hs-'));
  const open = (): Promise<DiskStorage> => DiskStorage.open({ dir, warn: () => undefined });
  try {
    const storage = await open();
    await storage.load();
    await storage.save({ hardState: { term: 1, vote: null, commit: 5 }, entries: entries(1, 10, 1), snapshot: null, sync: true });
    await cp(join(dir, 'wal'), join(dir, 'wal-before'), { recursive: true });
    await storage.save({ hardState: { term: 2, vote: null, commit: 15 }, entries: entries(11, 15, 2), snapshot: null, sync: true });
    await storage.close();
    await rm(join(dir, 'wal'), { recursive: true });
    await rename(join(dir, 'wal-before'), join(dir, 'wal'));

    const after = await open();
    try {
      const state = await after.load();
      assert.deepEqual(state.entries.map((e) => `${e.index}@${e.term}`), entries(1, 10, 1).map((e) => `${e.index}@${e.term}`));
      assert.equal(state.hardState.term, 2);
      assert.ok(state.hardState.commit >= 5 && state.hardState.commit <= 10, `commit ${state.hardState.commit} within the log 1..10`);
    } finally {
      await after.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/**
 * Once, the lock was a pid file taken over by reading the pid, removing the file and creating it
 * anew, none of it atomic: two processes starting together after a crash could both win. Now it
 * is an abstract socket the kernel frees when its owner dies. Here four children race for a
 * directory whose LOCK names a dead process: exactly one may load.
 */
test('of processes starting together on a directory with a stale lock, only one gets it', async () => {
  const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
  const trials = 8;
  let sharedTrials = 0;
  for (let trial = 0; trial < trials; trial++) {
    const dir = await mkdtemp(join(tmpdir(), 'quorate-crash-lock-'));
    await writeFile(join(dir, 'LOCK'), `${deadPid}\n`);
    const children = [1, 2, 3, 4].map((seed) => startChild(dir, seed, { waitForGo: true }));
    try {
      assert.ok((await Promise.all(children.map((c) => c.waitFor('ready', 30_000)))).every(Boolean), 'the children are ready');
      // All are idle in their event loops, so they go for the lock within a fraction of a millisecond.
      for (const child of children) child.go();
      // The loser exits with DataDirLocked; a child that loaded holds the lock.
      const loaded = await Promise.all(children.map((c) => c.waitFor('start', 30_000)));
      if (loaded.filter(Boolean).length > 1) sharedTrials++;
    } finally {
      await Promise.all(children.map((c) => c.kill()));
      await rm(dir, { recursive: true, force: true });
    }
  }
  assert.equal(sharedTrials, 0, `several processes locked the directory in ${sharedTrials} of ${trials} trials`);
});
