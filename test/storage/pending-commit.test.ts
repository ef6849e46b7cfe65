/**
 * An update that changes only the commit index (the core asks for no sync then) writes nothing
 * to the WAL: its record goes with the next append, or is written at close. Every node used to
 * spend a thread-pool write on each such update, three per request at one client.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry, HardState } from '../../src/raft/index.js';
import { DiskStorage } from '../../src/storage/index.js';
import { entryAt } from './corruption-fixtures.js';

function entries(first: number, last: number): Entry[] {
  const out: Entry[] = [];
  for (let index = first; index <= last; index++) out.push(entryAt(index, 1));
  return out;
}

const hs = (commit: number): HardState => ({ term: 1, vote: null, commit });

/** What a node restarting after a crash at this moment would load: a copy of the directory, opened beside the live one. */
async function commitAfterCrash(dir: string): Promise<number> {
  const copy = `${dir}-crash`;
  await rm(copy, { recursive: true, force: true });
  await cp(dir, copy, { recursive: true });
  const storage = await DiskStorage.open({ dir: copy, warn: () => undefined });
  try {
    return (await storage.load()).hardState.commit;
  } finally {
    await storage.close();
    await rm(copy, { recursive: true, force: true });
  }
}

/** Runs body on a loaded DiskStorage in a fresh directory, removed afterwards. */
async function withStorage(body: (storage: DiskStorage, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-pending-commit-'));
  try {
    const storage = await DiskStorage.open({ dir, warn: () => undefined });
    await storage.load();
    await body(storage, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void test('a commit-only update waits for the next append, which makes it durable', () =>
  withStorage(async (storage, dir) => {
    await storage.save({ hardState: hs(2), entries: entries(1, 4), snapshot: null, sync: true });
    const writes = storage.walStats().writes;
    await storage.save({ hardState: hs(4), entries: [], snapshot: null, sync: false });
    assert.equal(storage.walStats().writes, writes, 'the commit-only update wrote to the WAL');
    assert.equal(await commitAfterCrash(dir), 2, 'a crash now loses only the newer commit index');
    await storage.save({ hardState: null, entries: entries(5, 5), snapshot: null, sync: true });
    assert.equal(storage.walStats().writes, writes + 1);
    assert.equal(await commitAfterCrash(dir), 4, 'the next append did not carry the commit index');
    await storage.close();
  }));

void test('close writes a pending commit index', () =>
  withStorage(async (storage, dir) => {
    await storage.save({ hardState: hs(1), entries: entries(1, 3), snapshot: null, sync: true });
    await storage.save({ hardState: hs(3), entries: [], snapshot: null, sync: false });
    await storage.close();
    const reopened = await DiskStorage.open({ dir, warn: () => undefined });
    assert.equal((await reopened.load()).hardState.commit, 3);
    await reopened.close();
  }));
