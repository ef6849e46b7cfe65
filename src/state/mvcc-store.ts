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
import { assert } from '../util/assert.js';
import { binaryToBytes, inRange, type BinaryRange } from './keys.js';
import type { KeyValue, KvEvent } from './types.js';

// sorted-btree is CommonJS with `exports.default`; under NodeNext the default import is the
// module object, so the class is its `default` property.
const BTree = BTreeModule.default;
type KeyIndex = InstanceType<typeof BTree<string, KeyRevision[]>>;

/** A key's state at one revision; the key itself is the index key. */
export interface StoredKv {
  readonly value: Uint8Array;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly lease: number;
}

/** One change of one key: a put (kv) or a delete (kv === null, a tombstone). */
export interface KeyRevision {
  readonly main: number;
  readonly sub: number;
  readonly kv: StoredKv | null;
}

interface LoggedEvent {
  readonly key: string;
  readonly main: number;
  readonly sub: number;
  readonly event: KvEvent;
}

export function toKeyValue(key: string, kv: StoredKv, keysOnly = false): KeyValue {
  return {
    key: binaryToBytes(key),
    value: keysOnly ? new Uint8Array(0) : kv.value,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease,
  };
}

function buildEvent(key: string, change: KeyRevision, prev: StoredKv | null): KvEvent {
  const kv: KeyValue =
    change.kv === null
      ? { key: binaryToBytes(key), value: new Uint8Array(0), createRevision: 0, modRevision: change.main, version: 0, lease: 0 }
      : toKeyValue(key, change.kv);
  const type = change.kv === null ? 'delete' : 'put';
  return prev === null ? { type, kv } : { type, kv, prevKv: toKeyValue(key, prev) };
}

/** The entry visible at `revision`: the last one with main <= revision (binary search). */
function visibleAt(history: readonly KeyRevision[], revision: number): StoredKv | null {
  let low = 0;
  let high = history.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((history[mid]?.main ?? 0) <= revision) low = mid + 1;
    else high = mid;
  }
  return low === 0 ? null : (history[low - 1]?.kv ?? null);
}

export class MvccStore {
  private index: KeyIndex = new BTree<string, KeyRevision[]>();
  private log: LoggedEvent[] = [];
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
    return history?.[history.length - 1]?.kv ?? null;
  }

  /**
   * Visit the keys of `range` that exist at `revision` (null = latest), in key order, until
   * `visit` returns false. Tombstoned keys stay in the index until compaction, so they are
   * skipped here.
   */
  scan(range: BinaryRange, revision: number | null, visit: (key: string, kv: StoredKv) => boolean): void {
    for (const [key, history] of this.index.entries(range.start)) {
      if (range.end !== null && key >= range.end) return;
      const kv = revision === null ? (history[history.length - 1]?.kv ?? null) : visibleAt(history, revision);
      if (kv !== null && !visit(key, kv)) return;
    }
  }

  beginWrite(): void {
    assert(this.pending === null, 'nested write');
    this.pending = [];
  }

  put(key: string, value: Uint8Array, lease: number): { readonly kv: StoredKv; readonly prev: StoredKv | null } {
    const main = this.writeRevision;
    const prev = this.latest(key);
    const kv: StoredKv = {
      value,
      createRevision: prev === null ? main : prev.createRevision,
      modRevision: main,
      version: prev === null ? 1 : prev.version + 1,
      lease,
    };
    this.record(key, { main, sub: 0, kv }, prev);
    return { kv, prev };
  }

  /** Delete a key that exists; returns its last state. */
  delete(key: string): StoredKv {
    const prev = this.latest(key);
    assert(prev !== null, 'delete of a missing key');
    this.record(key, { main: this.writeRevision, sub: 0, kv: null }, prev);
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
    const entry: KeyRevision = { ...change, sub: pending.length };
    const history = this.index.get(key);
    // The txn validation forbids touching one key twice in a transaction (as etcd does).
    assert(history?.[history.length - 1]?.main !== entry.main, 'key changed twice in one revision');
    if (history === undefined) this.index.set(key, [entry]);
    else history.push(entry);
    const event = buildEvent(key, entry, prev);
    pending.push(event);
    this.log.push({ key, main: entry.main, sub: entry.sub, event });
  }

  /** Events with revision >= from in `range`, in revision order. The caller checks `from`. */
  eventsSince(from: number, range: BinaryRange): KvEvent[] {
    let low = 0;
    let high = this.log.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.log[mid]?.main ?? 0) < from) low = mid + 1;
      else high = mid;
    }
    const events: KvEvent[] = [];
    for (let i = low; i < this.log.length; i++) {
      const logged = this.log[i];
      if (logged !== undefined && logged.main <= this.revision && inRange(range, logged.key)) events.push(logged.event);
    }
    return events;
  }

  /**
   * Drop history at or below `revision`, keeping each key's state as of `revision` (if it
   * exists then) so that reads at `revision` and later stay exact. Linear in the number of
   * keys, as etcd's compaction is.
   */
  compact(revision: number): void {
    assert(revision > this.compacted && revision <= this.revision && this.pending === null, 'bad compaction');
    const emptied: string[] = [];
    this.index.forEach((history, key) => {
      let keep = 0;
      while (keep < history.length && (history[keep]?.main ?? 0) <= revision) keep++;
      // history[keep - 1] is the state at `revision`: keep it if it is a live value.
      if (keep > 0 && history[keep - 1]?.kv !== null) keep--;
      history.splice(0, keep);
      // The order of changes inside a compacted revision is no longer observable (its events
      // are gone); zeroing `sub` keeps snapshots canonical for states that differ only there.
      const first = history[0];
      if (first !== undefined && first.main <= revision) history[0] = { ...first, sub: 0 };
      if (history.length === 0) emptied.push(key);
    });
    for (const key of emptied) this.index.delete(key);
    const firstKept = this.log.findIndex((logged) => logged.main > revision);
    this.log.splice(0, firstKept === -1 ? this.log.length : firstKept);
    this.compacted = revision;
  }

  /** Every key's history, in key order: what a snapshot stores. */
  histories(): IterableIterator<[string, KeyRevision[]]> {
    return this.index.entries();
  }

  /** Replace the whole state; the event log is rebuilt from the histories. */
  load(revision: number, compactRevision: number, histories: Iterable<readonly [string, KeyRevision[]]>): void {
    assert(this.pending === null, 'load during a write');
    this.index = new BTree<string, KeyRevision[]>();
    const log: LoggedEvent[] = [];
    for (const [key, history] of histories) {
      this.index.set(key, history);
      history.forEach((change, i) => {
        const prev = i === 0 ? null : (history[i - 1]?.kv ?? null);
        if (change.main > compactRevision) log.push({ key, main: change.main, sub: change.sub, event: buildEvent(key, change, prev) });
      });
    }
    log.sort((a, b) => a.main - b.main || a.sub - b.sub);
    this.log = log;
    this.revision = revision;
    this.compacted = compactRevision;
  }
}
