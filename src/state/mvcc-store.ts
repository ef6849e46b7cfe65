/**
 * Multi-version storage: every key's history since the last compaction, an ordered key index
 * over it, and a revision-ordered event log for watchers. It knows nothing about leases,
 * validation or commands; KvStore (kv-store.ts) builds etcd's operations on top of it.
 *
 * Revisions are etcd's {main, sub}: `main` is the global revision, bumped once per write
 * transaction however many keys it touches; `sub` orders the changes inside one transaction,
 * so the event log can be rebuilt in exactly the original order from the key histories alone
 * (which is what a snapshot stores).
 */
import BTreeModule from 'sorted-btree';
import { bulkLoad } from 'sorted-btree/extended/bulkLoad.js';
import { assert } from '../util/assert.js';
import { binaryToBytes, inRange, type BinaryRange } from './keys.js';
import type { KeyValue, KvEvent } from './types.js';

// sorted-btree is CommonJS with `exports.default`; under NodeNext the default import is the
// module object, so the class is its `default` property.
const BTree = BTreeModule.default;
const compareKeys = BTreeModule.defaultComparator;
/** sorted-btree's default, which `new BTree()` uses too. */
const indexNodeSize = 32;
/**
 * A key's changes in revision order. Most keys have one (written once, or compacted down to
 * one), which is kept bare: an array around it cost 30 to 90 bytes per key.
 */
type History = KeyRevision | KeyRevision[];
type KeyIndex = InstanceType<typeof BTree<string, History>>;

function lastOf(history: History): KeyRevision | undefined {
  return Array.isArray(history) ? history[history.length - 1] : history;
}

function asList(history: History): readonly KeyRevision[] {
  return Array.isArray(history) ? history : [history];
}

/** The stored form of a list of changes: the one change bare (see History). */
function fromList(list: KeyRevision[]): History {
  return list.length === 1 && list[0] !== undefined ? list[0] : list;
}

/**
 * One change of one key: a put (`value` holds the bytes) or a delete (`value` null, a tombstone,
 * with the other fields 0). `modRevision` is etcd's main revision of the change.
 *
 * One object per change, with the value as a latin1 string: a stored Uint8Array brings its
 * own ArrayBuffer and backing store, some 200 bytes beyond the data, where a string costs 16.
 * At a million keys that was most of the difference between etcd's footprint and ours.
 */
export interface KeyRevision {
  readonly modRevision: number;
  readonly sub: number;
  readonly value: string | null;
  readonly createRevision: number;
  readonly version: number;
  readonly lease: number;
}

/** A key's state at one revision when it exists: a put. */
export interface StoredKv extends KeyRevision {
  readonly value: string;
}

function isLive(change: KeyRevision | undefined): change is StoredKv {
  return change !== undefined && change.value !== null;
}

/**
 * The watch event log: every change since the last compaction in revision order, as its key
 * and its change (the state before it is found in the key's history). Two parallel arrays,
 * not an object per event: 16 bytes less per write.
 */
class EventLog {
  constructor(
    readonly keys: string[] = [],
    readonly changes: KeyRevision[] = [],
  ) {}

  get length(): number {
    return this.keys.length;
  }

  push(key: string, change: KeyRevision): void {
    this.keys.push(key);
    this.changes.push(change);
  }

  /** The position of the first change with modRevision >= revision (binary search). */
  firstAtOrAfter(revision: number): number {
    let low = 0;
    let high = this.changes.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.changes[mid]?.modRevision ?? 0) < revision) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Drop the changes at or below `revision`. */
  dropThrough(revision: number): void {
    const count = this.firstAtOrAfter(revision + 1);
    this.keys.splice(0, count);
    this.changes.splice(0, count);
  }
}

/** The whole state as of one revision, unaffected by later writes and compactions (see freeze). */
export interface FrozenMvcc {
  readonly revision: number;
  readonly compactRevision: number;
  readonly keyCount: number;
  /** Every key's history up to `revision`, in key order; a history's later changes are left out. */
  histories(): IterableIterator<[string, readonly KeyRevision[]]>;
}

export function toKeyValue(key: string, kv: StoredKv, keysOnly = false): KeyValue {
  return {
    key: binaryToBytes(key),
    value: keysOnly ? new Uint8Array(0) : binaryToBytes(kv.value),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  };
}

function buildEvent(key: string, change: KeyRevision, prev: KeyRevision | undefined): KvEvent {
  const kv: KeyValue = isLive(change)
    ? toKeyValue(key, change)
    : { key: binaryToBytes(key), value: new Uint8Array(0), createRevision: 0, modRevision: change.modRevision, version: 0, lease: 0 };
  const type = isLive(change) ? 'put' : 'delete';
  return isLive(prev) ? { type, kv, prevKv: toKeyValue(key, prev) } : { type, kv };
}

/** How many changes of `history` have modRevision <= revision (binary search). */
function countThrough(history: readonly KeyRevision[], revision: number): number {
  let low = 0;
  let high = history.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((history[mid]?.modRevision ?? 0) <= revision) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The state visible at `revision`: the last change with modRevision <= revision, if a put. */
function visibleAt(history: readonly KeyRevision[], revision: number): StoredKv | null {
  const change = history[countThrough(history, revision) - 1];
  return isLive(change) ? change : null;
}

export class MvccStore {
  /**
   * Key -> history. A history array only ever grows at its end; a bare change is replaced,
   * and so is a history that compaction shortens. The tree is copy-on-write (sorted-btree's
   * clone), so a frozen view keeps seeing exactly the state it was taken at.
   */
  private index: KeyIndex = new BTree<string, History>();
  private log = new EventLog();
  private revision = 1;
  private compacted = 0;
  /** Events of the write in progress, or null outside a write. */
  private pending: KvEvent[] | null = null;

  /** The last committed revision; an empty store is at 1, as in etcd. */
  get currentRevision(): number {
    return this.revision;
  }

  /** History at or below this revision is gone; 0 before the first compaction. */
  get compactRevision(): number {
    return this.compacted;
  }

  /** The revision the write in progress will commit as. */
  get writeRevision(): number {
    assert(this.pending !== null, 'writeRevision outside a write');
    return this.revision + 1;
  }

  /** The latest state of a key, including writes of the transaction in progress. */
  latest(key: string): StoredKv | null {
    const history = this.index.get(key);
    const last = history === undefined ? undefined : lastOf(history);
    return isLive(last) ? last : null;
  }

  /**
   * Visit the keys of `range` that exist at `revision` (null = latest), in key order, until
   * `visit` returns false. Tombstoned keys stay in the index until compaction, so they are
   * skipped here.
   */
  scan(range: BinaryRange, revision: number | null, visit: (key: string, kv: StoredKv) => boolean): void {
    for (const [key, history] of this.index.entries(range.start)) {
      if (range.end !== null && key >= range.end) return;
      const last = lastOf(history);
      const kv = revision === null ? (isLive(last) ? last : null) : visibleAt(asList(history), revision);
      if (kv !== null && !visit(key, kv)) return;
    }
  }

  beginWrite(): void {
    assert(this.pending === null, 'nested write');
    this.pending = [];
  }

  /** `value` is the bytes as a latin1 string (keys.ts bytesToBinary). */
  put(key: string, value: string, lease: number): { readonly kv: StoredKv; readonly prev: StoredKv | null } {
    const modRevision = this.writeRevision;
    const prev = this.latest(key);
    const kv: StoredKv = {
      modRevision,
      sub: this.pending?.length ?? 0,
      value,
      createRevision: prev === null ? modRevision : prev.createRevision,
      version: prev === null ? 1 : prev.version + 1,
      lease,
    };
    this.record(key, kv, prev);
    return { kv, prev };
  }

  /** Delete a key that exists; returns its last state. */
  delete(key: string): StoredKv {
    const prev = this.latest(key);
    assert(prev !== null, 'delete of a missing key');
    this.record(key, { modRevision: this.writeRevision, sub: this.pending?.length ?? 0, value: null, createRevision: 0, version: 0, lease: 0 }, prev);
    return prev;
  }

  /** Commit the write in progress: one new revision if it changed anything, none otherwise. */
  endWrite(): readonly KvEvent[] {
    const events = this.pending;
    assert(events !== null, 'endWrite outside a write');
    this.pending = null;
    if (events.length > 0) this.revision++;
    return events;
  }

  private record(key: string, change: KeyRevision, prev: StoredKv | null): void {
    const pending = this.pending;
    assert(pending !== null, 'change outside a write');
    const history = this.index.get(key);
    // The txn validation forbids touching one key twice in a transaction (as etcd does).
    assert(history === undefined || lastOf(history)?.modRevision !== change.modRevision, 'key changed twice in one revision');
    if (history === undefined) this.index.set(key, change);
    else if (Array.isArray(history)) history.push(change);
    else this.index.set(key, [history, change]);
    pending.push(buildEvent(key, change, prev ?? undefined));
    this.log.push(key, change);
  }

  /** Events with revision >= from in `range`, in revision order. The caller checks `from`. */
  eventsSince(from: number, range: BinaryRange): KvEvent[] {
    const { keys, changes } = this.log;
    const events: KvEvent[] = [];
    for (let i = this.log.firstAtOrAfter(from); i < keys.length; i++) {
      const key = keys[i];
      const change = changes[i];
      if (key === undefined || change === undefined || change.modRevision > this.revision || !inRange(range, key)) continue;
      events.push(this.eventOf(key, change));
    }
    return events;
  }

  /** A logged change as a watch event, with the key's state before it (if it existed). */
  private eventOf(key: string, change: KeyRevision): KvEvent {
    const stored = this.index.get(key);
    assert(stored !== undefined, 'logged event of a key not in the index');
    const history = asList(stored);
    const at = countThrough(history, change.modRevision) - 1;
    return buildEvent(key, change, history[at - 1]);
  }

  /**
   * Drop history at or below `revision`, keeping each key's state as of `revision` (if it
   * exists then) so that reads at `revision` and later stay exact. Linear in the number of
   * keys, as etcd's compaction is. Shortened histories are new arrays (see `index`).
   */
  compact(revision: number): void {
    assert(revision > this.compacted && revision <= this.revision && this.pending === null, 'bad compaction');
    const emptied: string[] = [];
    const shortened: [string, History][] = [];
    this.index.forEach((stored, key) => {
      const history = asList(stored);
      let drop = countThrough(history, revision);
      // history[drop - 1] is the state at `revision`: keep it if it is a live value.
      if (isLive(history[drop - 1])) drop--;
      const first = history[drop];
      // The order of changes inside a compacted revision is no longer observable (its events
      // are gone); zeroing `sub` keeps snapshots canonical for states that differ only there.
      const resub = first !== undefined && first.modRevision <= revision && first.sub !== 0;
      if (drop === 0 && !resub) return;
      const kept = history.slice(drop);
      if (kept.length === 0) return void emptied.push(key);
      if (resub) kept[0] = { ...first, sub: 0 };
      shortened.push([key, fromList(kept)]);
    });
    for (const key of emptied) this.index.delete(key);
    for (const [key, kept] of shortened) this.index.set(key, kept);
    this.log.dropThrough(revision);
    this.compacted = revision;
  }

  /**
   * The state as it is now, for a snapshot encoded over several turns of the event loop while
   * writes go on. O(1): the tree is cloned copy-on-write, and changes appended to a shared
   * history later are cut off by revision.
   */
  freeze(): FrozenMvcc {
    assert(this.pending === null, 'freeze during a write');
    const index = this.index.clone();
    const revision = this.revision;
    return {
      revision,
      compactRevision: this.compacted,
      keyCount: index.size,
      *histories() {
        for (const [key, stored] of index.entries()) {
          const history = asList(stored);
          const through = countThrough(history, revision);
          yield [key, through === history.length ? history : history.slice(0, through)];
        }
      },
    };
  }

  /**
   * Replace the whole state; the event log is rebuilt from the histories. Linear in the number
   * of changes, since a joining node restores hundreds of megabytes this way: the histories come
   * in key order, so the index is bulk-loaded, and the log is ordered by a counting sort on
   * `main` (every revision above the compaction has a change, so the count array is no longer
   * than the log) and by `sub` within a revision. A comparison sort and inserting key by key
   * took half of a 1.3 s restore of 600,000 changes.
   */
  load(revision: number, compactRevision: number, histories: Iterable<readonly [string, KeyRevision[]]>): void {
    assert(this.pending === null, 'load during a write');
    const keys: string[] = [];
    const lists: KeyRevision[][] = [];
    // changesAt[main - compactRevision]: how many logged changes revision `main` made.
    const changesAt = new Uint32Array(revision - compactRevision + 1);
    for (const [key, history] of histories) {
      keys.push(key);
      lists.push(history);
      for (const change of history) if (change.modRevision > compactRevision) (changesAt[change.modRevision - compactRevision] as number)++;
    }
    // Turn the counts into each revision's first position in the log.
    let logged = 0;
    for (let at = 0; at < changesAt.length; at++) {
      const count = changesAt[at] as number;
      changesAt[at] = logged;
      logged += count;
    }
    const logKeys = new Array<string>(logged);
    const logChanges = new Array<KeyRevision>(logged);
    lists.forEach((history, i) => {
      for (const change of history) {
        if (change.modRevision <= compactRevision) continue;
        const position = (changesAt[change.modRevision - compactRevision] as number)++;
        logKeys[position] = keys[i] as string;
        logChanges[position] = change;
      }
    });
    orderBySub(logKeys, logChanges);
    this.index = bulkLoad(keys, lists.map(fromList), indexNodeSize, compareKeys);
    this.log = new EventLog(logKeys, logChanges);
    this.revision = revision;
    this.compacted = compactRevision;
  }
}

/**
 * Puts the changes of each revision in `sub` order; they arrive in key order. An insertion
 * sort on runs of one revision, which are as long as a transaction's writes.
 */
function orderBySub(keys: string[], changes: KeyRevision[]): void {
  for (let i = 1; i < changes.length; i++) {
    const change = changes[i] as KeyRevision;
    const key = keys[i] as string;
    let j = i;
    for (; j > 0; j--) {
      const before = changes[j - 1] as KeyRevision;
      if (before.modRevision !== change.modRevision || before.sub < change.sub) break;
      changes[j] = before;
      keys[j] = keys[j - 1] as string;
    }
    changes[j] = change;
    keys[j] = key;
  }
}
