/**
 * The replicated log as the consensus core sees it: the entries after the last compaction point,
 * the latest snapshot, and three marks that only move forward (stable <= last, applied <=
 * committed). The node driver persists what the log reports as unstable and tells the log when
 * it is durable; the core never reads storage itself.
 */
import { assert } from '../util/assert.js';
import type { ConfState, Entry, Snapshot, SnapshotMeta } from './types.js';

export interface LogRestore {
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

const emptyConf: ConfState = { voters: [], learners: [] };

export class RaftLog {
  /** The index and term of the entry just before `entries[0]` (the compaction point). */
  private offset: number;
  private offsetTerm: number;
  private entries: Entry[];
  /** The latest snapshot, sent to followers that need entries before the compaction point. */
  private latestSnapshot: Snapshot | null;
  /** A snapshot received from the leader that is not yet durable and applied. */
  private pendingSnapshot: Snapshot | null = null;
  /** Entries up to this index are durable on this node. */
  private stableIndex: number;
  committed: number;
  applied: number;

  constructor(restore: LogRestore) {
    const meta = restore.snapshot?.meta;
    this.offset = meta?.index ?? 0;
    this.offsetTerm = meta?.term ?? 0;
    this.latestSnapshot = restore.snapshot;
    this.entries = [];
    for (const entry of restore.entries) {
      if (entry.index <= this.offset) continue;
      assert(entry.index === this.lastIndex() + 1, `restored log has a gap before index ${entry.index}`);
      this.entries.push(entry);
    }
    this.stableIndex = this.lastIndex();
    this.committed = Math.max(restore.commit, this.offset);
    assert(this.committed <= this.lastIndex(), `restored commit ${this.committed} is beyond the last index ${this.lastIndex()}`);
    this.applied = this.offset;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? this.offsetTerm;
  }

  /** The term of the entry at `index`, or undefined if it is compacted away or not yet appended. */
  term(index: number): number | undefined {
    if (index === this.offset) return this.offsetTerm;
    return this.entries[index - this.offset - 1]?.term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Section 5.4.1: a candidate's log is at least as up-to-date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Entries in [lo, hi), at most `bytesMax` bytes but always at least one entry. */
  slice(lo: number, hi: number, bytesMax = Infinity, sizeOf: (entry: Entry) => number = () => 0): Entry[] {
    assert(lo > this.offset && hi <= this.lastIndex() + 1 && lo <= hi, () => `slice [${lo}, ${hi}) outside the log (${this.offset}, ${this.lastIndex()}]`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const entry = this.entries[i - this.offset - 1];
      assert(entry !== undefined, `missing entry ${i}`);
      bytes += sizeOf(entry);
      if (out.length > 0 && bytes > bytesMax) break;
      out.push(entry);
    }
    return out;
  }

  /** Append entries created by the leader itself. */
  appendLocal(entries: readonly Entry[]): void {
    for (const entry of entries) {
      assert(entry.index === this.lastIndex() + 1, `appending index ${entry.index} after ${this.lastIndex()}`);
      this.entries.push(entry);
    }
  }

  /**
   * Section 5.3: append entries from the leader that follow (prevIndex, prevTerm), deleting a
   * conflicting suffix first. Returns the index of the last new entry, or undefined when the
   * log does not contain prevIndex with prevTerm (the leader must back off).
   */
  maybeAppend(prevIndex: number, prevTerm: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    entries.forEach((entry, i) => {
      assert(entry.index === prevIndex + 1 + i, `entries after ${prevIndex} are not contiguous at ${entry.index}`);
    });
    for (const entry of entries) {
      if (entry.index <= this.offset) continue;
      const existing = this.term(entry.index);
      if (existing === entry.term) continue;
      if (existing !== undefined) {
        assert(entry.index > this.committed, () => `conflict at committed index ${entry.index} (committed ${this.committed})`);
        this.truncateFrom(entry.index);
      }
      this.entries.push(entry);
    }
    return lastNew;
  }

  private truncateFrom(index: number): void {
    this.entries.length = index - this.offset - 1;
    this.stableIndex = Math.min(this.stableIndex, index - 1);
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), () => `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /**
   * For a rejected append: the largest index <= `index` whose term is <= `term`. The leader can
   * then skip a whole term of mismatching entries at once instead of one index per round trip
   * (the optimization the paper mentions at the end of section 5.3).
   */
  findConflictByTerm(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex());
    while (i > this.offset) {
      const t = this.term(i);
      if (t === undefined || t <= term) break;
      i--;
    }
    return i;
  }

  hasUnstableEntries(): boolean {
    return this.stableIndex < this.lastIndex();
  }

  unstableEntries(): Entry[] {
    return this.stableIndex >= this.lastIndex() ? [] : this.slice(this.stableIndex + 1, this.lastIndex() + 1);
  }

  /** Entries become durable up to (index, term), unless the log changed in the meantime. */
  stableTo(index: number, term: number): void {
    if (index > this.stableIndex && this.matchTerm(index, term)) this.stableIndex = index;
  }

  stable(): number {
    return this.stableIndex;
  }

  /**
   * Committed entries not yet handed out for applying, bounded in bytes. Some may still be
   * unstable here; the Ready contract has them persisted before they are applied (types.ts).
   */
  nextCommittedEntries(bytesMax: number, sizeOf: (entry: Entry) => number): Entry[] {
    if (this.pendingSnapshot !== null || this.applied >= this.committed) return [];
    return this.slice(this.applied + 1, this.committed + 1, bytesMax, sizeOf);
  }

  appliedTo(index: number): void {
    assert(index >= this.applied && index <= this.committed, () => `applied ${index} outside [${this.applied}, ${this.committed}]`);
    this.applied = index;
  }

  snapshot(): Snapshot | null {
    return this.latestSnapshot;
  }

  unstableSnapshot(): Snapshot | null {
    return this.pendingSnapshot;
  }

  /** Install a snapshot from the leader: the log is replaced by the snapshot (section 7). */
  restore(snapshot: Snapshot): void {
    const { index, term } = snapshot.meta;
    assert(index > this.committed, `restoring snapshot ${index} at or below commit ${this.committed}`);
    this.offset = index;
    this.offsetTerm = term;
    this.entries = [];
    this.stableIndex = index;
    this.committed = index;
    this.pendingSnapshot = snapshot;
    this.latestSnapshot = snapshot;
  }

  /** The received snapshot is durable and restored into the state machine. */
  snapshotApplied(index: number): void {
    if (this.pendingSnapshot?.meta.index !== index) return;
    this.pendingSnapshot = null;
    this.applied = Math.max(this.applied, index);
  }

  /**
   * Record a snapshot the application took at `meta.index` (<= applied) and drop entries up to
   * `compactIndex` (<= meta.index), keeping the rest for followers that are slightly behind.
   */
  compact(snapshot: Snapshot, compactIndex: number): void {
    const { index } = snapshot.meta;
    assert(index <= this.applied, `snapshot ${index} beyond applied ${this.applied}`);
    assert(compactIndex <= index, `compaction ${compactIndex} beyond snapshot ${index}`);
    if (this.latestSnapshot === null || index > this.latestSnapshot.meta.index) this.latestSnapshot = snapshot;
    if (compactIndex <= this.offset) return;
    const term = this.term(compactIndex);
    assert(term !== undefined, `compaction index ${compactIndex} not in the log`);
    this.entries = this.entries.slice(compactIndex - this.offset);
    this.offset = compactIndex;
    this.offsetTerm = term;
  }

  snapshotMeta(): SnapshotMeta {
    return this.latestSnapshot?.meta ?? { index: 0, term: 0, conf: emptyConf };
  }
}
