/**
 * One behavioural suite for every LogStorage implementation (Hono's "one shared test suite per
 * interface"): the real DiskStorage and the simulator's VirtualDisk must agree on what survives
 * a restart, how a suffix is overwritten, how a received snapshot replaces the log and how a
 * local snapshot plus compaction keep the entries after it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bootstrapState, type LogStorage, type PersistedState } from '../../src/node/index.js';
import type { Entry, HardState, Snapshot } from '../../src/raft/index.js';

export interface StorageUnderTest {
  readonly storage: LogStorage;
  /** Close cleanly and open the same data again, as a restarted node would. */
  restart(): Promise<LogStorage>;
  dispose(): Promise<void>;
}

const encoder = new TextEncoder();

function entry(index: number, term: number): Entry {
  return { type: 'normal', index, term, data: encoder.encode(`e${index}@${term}`) };
}

function entries(from: number, to: number, term: number): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));
}

function snapshot(index: number, term: number, text: string): Snapshot {
  return { meta: { index, term, conf: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] } }, data: encoder.encode(text) };
}

/** The log a node would start from: entries after the snapshot, rendered comparably. */
function logAfterSnapshot(state: PersistedState): string[] {
  const base = state.snapshot?.meta.index ?? 0;
  return state.entries.filter((e) => e.index > base).map(render);
}

function render(e: Entry): string {
  return e.type === 'normal' ? `${e.index}/${e.term}/${new TextDecoder().decode(e.data)}` : `${e.index}/${e.term}/${e.change.type}:${e.change.nodeId}`;
}

const hs = (term: number, vote: string | null, commit: number): HardState => ({ term, vote, commit });

export function describeLogStorage(name: string, create: () => Promise<StorageUnderTest>): void {
  const withStorage = (title: string, body: (s: StorageUnderTest, first: LogStorage) => Promise<void>): void => {
    test(title, async () => {
      const s = await create();
      try {
        await body(s, s.storage);
      } finally {
        await s.dispose();
      }
    });
  };

  describe(`LogStorage conformance: ${name}`, () => {
    withStorage('a fresh storage is empty', async (_, storage) => {
      const state = await storage.load();
      assert.deepEqual(state.hardState, hs(0, null, 0));
      assert.equal(state.snapshot, null);
      assert.deepEqual(state.entries, []);
    });

    withStorage('hard state and entries survive a restart', async (s, storage) => {
      await storage.load();
      await storage.save({ hardState: hs(2, 'n1', 0), entries: entries(1, 5, 2), snapshot: null, sync: true });
      await storage.save({ hardState: hs(2, 'n1', 3), entries: entries(6, 7, 2), snapshot: null, sync: true });
      const state = await (await s.restart()).load();
      assert.deepEqual(state.hardState, hs(2, 'n1', 3));
      assert.deepEqual(logAfterSnapshot(state), entries(1, 7, 2).map(render));
    });

    withStorage('appending at an existing index replaces the suffix (a follower overwriting)', async (s, storage) => {
      await storage.load();
      await storage.save({ hardState: hs(1, null, 2), entries: entries(1, 6, 1), snapshot: null, sync: true });
      await storage.save({ hardState: hs(3, null, 2), entries: entries(4, 5, 3), snapshot: null, sync: true });
      const state = await (await s.restart()).load();
      assert.deepEqual(logAfterSnapshot(state), [...entries(1, 3, 1), ...entries(4, 5, 3)].map(render));
      assert.equal(state.hardState.term, 3);
    });

    withStorage('a snapshot received from the leader replaces the whole log', async (s, storage) => {
      await storage.load();
      await storage.save({ hardState: hs(1, null, 3), entries: entries(1, 10, 1), snapshot: null, sync: true });
      await storage.save({ hardState: hs(4, null, 20), entries: [], snapshot: snapshot(20, 4, 'state@20'), sync: true });
      await storage.save({ hardState: null, entries: entries(21, 23, 4), snapshot: null, sync: true });
      const state = await (await s.restart()).load();
      assert.deepEqual(state.snapshot?.meta, snapshot(20, 4, '').meta);
      assert.equal(new TextDecoder().decode(state.snapshot.data), 'state@20');
      assert.deepEqual(logAfterSnapshot(state), entries(21, 23, 4).map(render));
      assert.ok(state.hardState.commit >= 20);
    });

    withStorage('a local snapshot and compaction keep every entry after the snapshot', async (s, storage) => {
      await storage.load();
      for (let i = 1; i <= 100; i += 10) await storage.save({ hardState: hs(2, 'n2', i + 9), entries: entries(i, i + 9, 2), snapshot: null, sync: true });
      await storage.saveSnapshot(snapshot(80, 2, 'state@80'));
      await storage.compact(60);
      const state = await (await s.restart()).load();
      assert.equal(state.snapshot?.meta.index, 80);
      assert.deepEqual(logAfterSnapshot(state), entries(81, 100, 2).map(render));
      assert.deepEqual(state.hardState, hs(2, 'n2', 100));
    });

    withStorage('a local snapshot saved in chunks reads back whole, by its metadata and after a restart', async (s, storage) => {
      await storage.load();
      await storage.save({ hardState: hs(2, 'n2', 50), entries: entries(1, 50, 2), snapshot: null, sync: true });
      assert.ok(storage.saveSnapshotChunks !== undefined && storage.loadSnapshot !== undefined, 'both optional snapshot-file methods are implemented');
      const whole = snapshot(40, 2, 'state@40 '.repeat(1000));
      async function* chunks(): AsyncGenerator<Uint8Array> {
        for (let at = 0; at < whole.data.byteLength; at += 777) {
          await Promise.resolve();
          yield whole.data.subarray(at, at + 777);
        }
      }
      await storage.saveSnapshotChunks(whole.meta, chunks());
      const loadSnapshot = (meta: Snapshot['meta']): Promise<Snapshot | null> | undefined => storage.loadSnapshot?.(meta);
      const plain = (read: Snapshot | null | undefined): unknown => (read == null ? read : { meta: read.meta, data: new Uint8Array(read.data) });
      assert.deepEqual(plain(await loadSnapshot(whole.meta)), whole);
      assert.equal(await loadSnapshot({ ...whole.meta, index: 39 }), null, 'a snapshot never saved is not found');
      await storage.compact(40);
      const state = await (await s.restart()).load();
      assert.deepEqual(plain(state.snapshot), whole);
      assert.deepEqual(logAfterSnapshot(state), entries(41, 50, 2).map(render));
    });

    withStorage('a commit index written without sync is durable once a later write syncs', async (s, storage) => {
      await storage.load();
      await storage.save({ hardState: hs(1, null, 0), entries: entries(1, 4, 1), snapshot: null, sync: true });
      await storage.save({ hardState: hs(1, null, 4), entries: [], snapshot: null, sync: false });
      await storage.save({ hardState: null, entries: entries(5, 5, 1), snapshot: null, sync: true });
      const state = await (await s.restart()).load();
      assert.equal(state.hardState.commit, 4);
    });

    withStorage('membership entries and large entries round-trip exactly', async (s, storage) => {
      await storage.load();
      const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) & 0xff);
      const log: Entry[] = [
        { type: 'conf', index: 1, term: 1, change: { type: 'addLearner', nodeId: 'n-ünïcode' } },
        { type: 'normal', index: 2, term: 1, data: big },
        { type: 'conf', index: 3, term: 1, change: { type: 'remove', nodeId: 'n2' } },
        { type: 'normal', index: 4, term: 1, data: new Uint8Array(0) },
      ];
      await storage.save({ hardState: hs(1, null, 0), entries: log, snapshot: null, sync: true });
      const state = await (await s.restart()).load();
      assert.deepEqual(state.entries.map(render), log.map(render));
      const second = state.entries[1];
      assert.ok(second?.type === 'normal' && Buffer.compare(second.data, big) === 0);
    });

    withStorage("a new cluster's bootstrap state survives a restart", async (s, storage) => {
      await storage.load();
      const boot = bootstrapState(['n1', 'n2', 'n3'], encoder.encode('empty'));
      await storage.save({ hardState: boot.hardState, entries: [], snapshot: boot.snapshot, sync: true });
      const state = await (await s.restart()).load();
      assert.deepEqual(state.hardState, boot.hardState);
      assert.deepEqual(state.snapshot?.meta, boot.snapshot?.meta);
      assert.deepEqual(state.entries, []);
    });
  });
}
