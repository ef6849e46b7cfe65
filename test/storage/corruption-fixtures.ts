// Fixtures for corruption.test.ts (not a test file itself): a data directory with a known
// history written through DiskStorage, the state it must load back (the "truth"), a map of its
// files (the byte offset of every WAL record, parsed here independently of src/storage), and
// the damage the tests apply to copies of it.
import { open, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfChange, Entry, HardState, Snapshot } from '../../src/raft/index.js';
import { DiskStorage } from '../../src/storage/index.js';
import { Prng } from '../../src/util/prng.js';

/** Small segments, so that the history spans several of them. */
export const segmentBytesMax = 4096;
/** A WAL record's header: `[length u32][crc32c u32][type u8]`. */
export const walRecordHeaderBytes = 9;
/** The record every segment starts with: a 9-byte record header and a 29-byte payload. */
export const walSegmentHeaderBytes = 9 + 29;

const voters = ['n1', 'n2', 'n3'];
const changeTypes: readonly ConfChange['type'][] = ['addLearner', 'promote', 'remove'];

/** Deterministic entry data: a function of index and term, 0 to 250 bytes (or `length`). */
export function entryData(index: number, term: number, length = (index * 7919 + term * 104729) % 251): Uint8Array {
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) data[i] = (index * 31 + term * 97 + i * 13 + (i >>> 3)) & 0xff;
  return data;
}

/** The entry at (index, term): mostly normal entries, a configuration change every 19th index. */
export function entryAt(index: number, term: number, length?: number): Entry {
  if (index % 19 === 0) {
    const change = changeTypes[index % changeTypes.length] ?? 'addLearner';
    return { type: 'conf', index, term, change: { type: change, nodeId: `nœud-${index % 7}` } };
  }
  return { type: 'normal', index, term, data: entryData(index, term, length) };
}

export function snapshotAt(index: number, term: number, dataBytes: number): Snapshot {
  return { meta: { index, term, conf: { voters: [...voters], learners: ['n4'] } }, data: entryData(index, term, dataBytes) };
}

/** What loading the pristine directory must return. */
export interface Truth {
  readonly hardState: HardState;
  readonly snapshot: Snapshot;
  /** The log after the snapshot: indexes snapshot.meta.index + 1 onwards. */
  readonly entries: readonly Entry[];
}

export interface SegmentMap {
  /** Path relative to the data directory, e.g. `wal/0000000000000005.wal`. */
  readonly rel: string;
  readonly seq: number;
  readonly size: number;
  /** Where each record starts, in order (the first is 0, the segment header). */
  readonly recordStarts: readonly number[];
  /** The type byte of each record (1 header, 2 entry, 3 commit, 4 reset). */
  readonly recordTypes: readonly number[];
  /** The index of each entry record's entry (null for other records). */
  readonly recordIndexes: readonly (number | null)[];
  /** The header's prevIndex: the index of the entry just before the segment's first. */
  readonly prevIndex: number;
}

export interface Pristine {
  readonly dir: string;
  readonly truth: Truth;
  /** Oldest first; the last one is the segment recovery may cut back. */
  readonly segments: readonly SegmentMap[];
  readonly hardStateRel: string;
  readonly hardStateSize: number;
  readonly snapshotRel: string;
  readonly snapshotSize: number;
  /** Facts about the history the tests rely on, for readable assertions. */
  readonly history: {
    /** The overwritten suffix: entries [first, last] were replaced by term `newTerm`. */
    readonly overwrite: { readonly first: number; readonly last: number; readonly oldTerm: number; readonly newTerm: number };
    /** The segment holding the overwriting batch, and the offset of the batch's first record. */
    readonly overwriteSegment: string;
    readonly overwriteOffset: number;
  };
}

/**
 * Write the history into `dir` (which must not exist yet):
 *  1. term 1, vote n1; a bootstrap snapshot at index 3 through save({ snapshot });
 *  2. entries 4..70 at term 1 in batches of 1 to 5, a commit record with each batch;
 *  3. term 2, vote n2: entries 68..70 re-appended at term 2 (large ones, so the segment rotates
 *     right after them and the log's last index is the same before and after the overwrite);
 *  4. entries 71..130 at term 2;
 *  5. a local snapshot at index 66 (saveSnapshot) and compact(66), removing the oldest segments;
 *  6. term 3, vote n3: entries 131..165 at term 3, starting with an empty no-op entry;
 *  7. term 4, vote n1: entries 166..180 at term 4 (the hard state file's commit index then lies
 *     in the last segment, so losing committed entries there is noticed).
 */
export async function buildPristine(dir: string): Promise<Pristine> {
  const prng = new Prng(0x5eed);
  const bootstrap = snapshotAt(3, 1, 40);
  const log: Entry[] = []; // log[i] has index bootstrap index + 1 + i
  const base = bootstrap.meta.index;
  let hardState: HardState = { term: 1, vote: 'n1', commit: bootstrap.meta.index };
  const lastIndex = (): number => base + log.length;

  const storage = await DiskStorage.open({ dir, segmentBytesMax, warn: (m) => { throw new Error(`unexpected warning while building the fixture: ${m}`); } });
  try {
    const loaded = await storage.load();
    if (loaded.entries.length > 0 || loaded.snapshot !== null) throw new Error(`fixture directory ${dir} is not empty`);
    const append = async (entries: readonly Entry[], commit: number): Promise<void> => {
      for (const e of entries) {
        log.length = e.index - base - 1;
        log.push(e);
      }
      hardState = { ...hardState, commit: Math.max(hardState.commit, Math.min(commit, lastIndex())) };
      await storage.save({ hardState, entries, snapshot: null, sync: true });
    };
    const appendRun = async (first: number, last: number, term: number): Promise<void> => {
      for (let index = first; index <= last; ) {
        const n = Math.min(prng.int(1, 6), last - index + 1);
        const batch = Array.from({ length: n }, (_, i) => entryAt(index + i, term));
        index += n;
        await append(batch, index - 1 - 4);
      }
    };

    // 1. Bootstrap.
    await storage.save({ hardState, entries: [], snapshot: bootstrap, sync: true });
    // 2. Term 1.
    await appendRun(4, 70, 1);
    // 3. Term 2 overwrites 68..70 (uncommitted: commit is at most 66).
    if (hardState.commit >= 68) throw new Error('fixture: the overwritten entries must be uncommitted');
    hardState = { ...hardState, term: 2, vote: 'n2' };
    const overwrite = [68, 69, 70].map((index) => entryAt(index, 2, 1500));
    await append(overwrite, hardState.commit);
    // 4. Term 2 continues.
    await appendRun(71, 130, 2);
    // 5. A snapshot of the local state machine, then compaction.
    const localSnapshot = snapshotAt(66, 1, 300);
    await storage.saveSnapshot(localSnapshot);
    await storage.compact(localSnapshot.meta.index);
    // 6. Term 3.
    hardState = { ...hardState, term: 3, vote: 'n3' };
    await append([{ type: 'normal', index: 131, term: 3, data: new Uint8Array() }], hardState.commit);
    await appendRun(132, 165, 3);
    // 7. Term 4, vote n1, written while the last segment is current: its hard state file holds a
    //    commit index inside the last segment.
    hardState = { ...hardState, term: 4, vote: 'n1' };
    await append([{ type: 'normal', index: 166, term: 4, data: new Uint8Array() }], hardState.commit);
    await appendRun(167, 180, 4);

    return await mapDirectory(dir, {
      hardState,
      snapshot: localSnapshot,
      entries: log.filter((e) => e.index > localSnapshot.meta.index),
    });
  } finally {
    await storage.close();
  }
}

/** Parse the directory the history left: segments and their records, hard state, snapshot. */
async function mapDirectory(dir: string, truth: Truth): Promise<Pristine> {
  const segments: SegmentMap[] = [];
  let overwriteSegment = '';
  let overwriteOffset = -1;
  for (const name of (await readdir(join(dir, 'wal'))).sort()) {
    const rel = join('wal', name);
    const bytes = await readFile(join(dir, rel));
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const recordStarts: number[] = [];
    const recordTypes: number[] = [];
    const recordIndexes: (number | null)[] = [];
    for (let at = 0; at < bytes.byteLength; at += walRecordHeaderBytes + view.getUint32(at, true)) {
      recordStarts.push(at);
      const type = bytes[at + 8] ?? 0;
      recordTypes.push(type);
      recordIndexes.push(type === 2 ? view.getFloat64(at + 9, true) : null);
      // The first entry record of term 2 at index 68 starts the overwriting batch.
      if (type === 2 && view.getFloat64(at + 9, true) === 68 && view.getFloat64(at + 17, true) === 2) {
        overwriteSegment = rel;
        overwriteOffset = at;
      }
    }
    const prevIndex = view.getFloat64(walRecordHeaderBytes + 13, true);
    segments.push({ rel, seq: Number.parseInt(name.slice(0, 16), 16), size: bytes.byteLength, recordStarts, recordTypes, recordIndexes, prevIndex });
  }
  const snapNames = (await readdir(join(dir, 'snap'))).sort();
  const snapshotRel = join('snap', snapNames[snapNames.length - 1] ?? 'missing');
  const hardStateRel = 'hardstate';
  return {
    dir,
    truth,
    segments,
    hardStateRel,
    hardStateSize: (await stat(join(dir, hardStateRel))).size,
    snapshotRel,
    snapshotSize: (await stat(join(dir, snapshotRel))).size,
    history: { overwrite: { first: 68, last: 70, oldTerm: 1, newTerm: 2 }, overwriteSegment, overwriteOffset },
  };
}

/** One way to damage a file; `offset` is the first byte it changes (or cuts, or appends at). */
export type Damage =
  | { readonly kind: 'flip'; readonly offset: number; readonly bit: number }
  | { readonly kind: 'overwrite'; readonly offset: number; readonly bytes: Uint8Array }
  | { readonly kind: 'truncate'; readonly offset: number }
  | { readonly kind: 'zeroTail'; readonly offset: number }
  | { readonly kind: 'append'; readonly offset: number; readonly bytes: Uint8Array }
  | { readonly kind: 'delete'; readonly offset: 0 };

export function describeDamage(d: Damage): string {
  switch (d.kind) {
    case 'flip':
      return `flip bit ${d.bit} of byte ${d.offset}`;
    case 'overwrite':
      return `overwrite ${d.bytes.byteLength} bytes at ${d.offset} with ${Buffer.from(d.bytes).toString('hex')}`;
    case 'truncate':
      return `cut at ${d.offset}`;
    case 'zeroTail':
      return `zero-fill from ${d.offset} to the end`;
    case 'append':
      return `append ${d.bytes.byteLength} garbage bytes at ${d.offset}`;
    case 'delete':
      return 'delete the file';
  }
}

/** Apply `damage` to the file at `path`, failing if it would leave the file unchanged. */
export async function applyDamage(path: string, damage: Damage): Promise<void> {
  if (damage.kind === 'delete') {
    await rm(path);
    return;
  }
  const before = await readFile(path);
  const rangeCheck = (end: number): void => {
    if (damage.offset < 0 || end > before.byteLength) throw new RangeError(`${describeDamage(damage)} is outside ${path} (${before.byteLength} bytes)`);
  };
  switch (damage.kind) {
    case 'flip': {
      rangeCheck(damage.offset + 1);
      const handle = await open(path, 'r+');
      try {
        await handle.write(Uint8Array.of((before[damage.offset] ?? 0) ^ (1 << damage.bit)), 0, 1, damage.offset);
      } finally {
        await handle.close();
      }
      break;
    }
    case 'overwrite': {
      rangeCheck(damage.offset + damage.bytes.byteLength);
      const handle = await open(path, 'r+');
      try {
        await handle.write(damage.bytes, 0, damage.bytes.byteLength, damage.offset);
      } finally {
        await handle.close();
      }
      break;
    }
    case 'truncate':
      rangeCheck(damage.offset + 1);
      await truncate(path, damage.offset);
      break;
    case 'zeroTail': {
      rangeCheck(damage.offset + 1);
      const handle = await open(path, 'r+');
      try {
        await handle.write(new Uint8Array(before.byteLength - damage.offset), 0, before.byteLength - damage.offset, damage.offset);
      } finally {
        await handle.close();
      }
      break;
    }
    case 'append':
      if (damage.offset !== before.byteLength) throw new RangeError(`${describeDamage(damage)}: ${path} has ${before.byteLength} bytes`);
      await writeFile(path, damage.bytes, { flag: 'a' });
      break;
  }
  const after = await readFile(path);
  if (after.equals(before)) throw new Error(`${describeDamage(damage)} left ${path} unchanged`);
}

/**
 * Draw an offset to damage in a file of `size` bytes: uniformly, or (a third of the time, for
 * a WAL segment) inside a record header, where the length and checksum fields are.
 */
export function drawOffset(prng: Prng, size: number, recordStarts: readonly number[] | null): number {
  if (recordStarts !== null && prng.chance(1 / 3)) {
    const start = prng.pick(recordStarts);
    return Math.min(size - 1, start + prng.int(0, walRecordHeaderBytes));
  }
  return prng.int(0, size);
}

/** Random bytes that differ from `current` in at least one position. */
export function drawOverwrite(prng: Prng, current: Uint8Array): Uint8Array {
  for (;;) {
    const bytes = Uint8Array.from(current, () => prng.int(0, 256));
    if (bytes.some((b, i) => b !== current[i])) return bytes;
  }
}
