/**
 * The hard state file is written (and synced) before the WAL records of the same update, so the
 * commit index it holds must stay true wherever a crash cuts the WAL write that follows. Found by
 * the crash campaign (seed 20240601, iteration 145): a new term's update that replaced
 * uncommitted entries and committed some of the new ones wrote the file with commit bounded only
 * by the old log's last index; a kill mid-write left a log shorter than that commit, and
 * recovery refused the directory as corrupt. A kill before any WAL byte landed would instead
 * have loaded the replaced entries of the old term as committed.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry } from '../../src/raft/index.js';
import { DiskStorage } from '../../src/storage/index.js';
import { entryAt } from './corruption-fixtures.js';

function entries(first: number, last: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let index = first; index <= last; index++) out.push(entryAt(index, term));
  return out;
}

void test('a crash anywhere in a new term\'s overwriting write never yields a commit index over replaced or missing entries', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-hs-commit-'));
  try {
    const open = (at: string): Promise<DiskStorage> => DiskStorage.open({ dir: at, warn: () => undefined });
    const storage = await open(dir);
    await storage.load();
    // Term 1: entries 1..10, of which 1..3 are committed.
    await storage.save({ hardState: { term: 1, vote: null, commit: 3 }, entries: entries(1, 10, 1), snapshot: null, sync: true });
    const walDir = join(dir, 'wal');
    const [segment] = await readdir(walDir);
    assert.ok(segment !== undefined);
    const before = (await stat(join(walDir, segment))).size;
    // Term 2's leader replaces 5..10 and its commit index (8) already covers new entries.
    await storage.save({ hardState: { term: 2, vote: null, commit: 8 }, entries: entries(5, 9, 2), snapshot: null, sync: true });
    const after = (await stat(join(walDir, segment))).size;
    await storage.close();

    let cuts = 0;
    for (let cut = before; cut <= after; cut++) {
      const copy = await mkdtemp(join(tmpdir(), 'quorate-hs-commit-cut-'));
      try {
        await cp(dir, copy, { recursive: true });
        await truncate(join(copy, 'wal', segment), cut);
        const reopened = await open(copy);
        const state = await reopened.load().finally(() => reopened.close());
        const { commit } = state.hardState;
        const last = state.entries[state.entries.length - 1]?.index ?? 0;
        assert.ok(commit <= last, `cut at ${cut}: commit ${commit} beyond the last entry ${last}`);
        for (const e of state.entries) {
          if (e.index <= commit && e.index >= 5) assert.equal(e.term, 2, `cut at ${cut}: replaced entry ${e.index} of term ${e.term} counted as committed`);
        }
        assert.ok(commit >= 3, `cut at ${cut}: commit ${commit} lost the acknowledged commit 3`);
        cuts++;
      } finally {
        await rm(copy, { recursive: true, force: true });
      }
    }
    assert.equal(cuts, after - before + 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
