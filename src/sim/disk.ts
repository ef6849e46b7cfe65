/**
 * A virtual disk implementing LogStorage. A write becomes durable only when its simulated fsync
 * completes; a crash loses every write still in flight and every write that was never synced,
 * as a power failure would. Torn writes and lying fsyncs are out of scope (DESIGN.md section 3);
 * the real WAL's own tests cover torn tails.
 */
import { assert } from '../util/assert.js';
import { joinChunks } from '../util/bytes.js';
import type { Prng } from '../util/prng.js';
import type { Entry, HardState, Snapshot, SnapshotMeta } from '../raft/index.js';
import type { LogStorage, LogUpdate, PersistedState } from '../node/index.js';
import type { Scheduler } from './scheduler.js';

export interface DiskTimings {
  readonly fsyncMinMs: number;
  readonly fsyncMaxMs: number;
}

export class VirtualDisk implements LogStorage {
  private hardState: HardState;
  private snapshot: Snapshot | null;
  private entries: Entry[];
  /** A hard state written without fsync: durable only once a later sync flushes it. */
  private unsyncedHardState: HardState | null = null;
  /** Bumped by a crash; completions of an older incarnation's writes are discarded. */
  private incarnation = 0;
  private stallMs: number | null = null;
  fsyncs = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly prng: Prng,
    initial: PersistedState,
    private readonly timings: DiskTimings = { fsyncMinMs: 0.5, fsyncMaxMs: 3 },
  ) {
    this.hardState = initial.hardState;
    this.snapshot = initial.snapshot;
    this.entries = [...initial.entries];
  }

  load(): Promise<PersistedState> {
    return Promise.resolve({ hardState: this.hardState, snapshot: this.snapshot, entries: [...this.entries] });
  }

  save(update: LogUpdate): Promise<void> {
    if (!update.sync) {
      if (update.hardState !== null) this.unsyncedHardState = update.hardState;
      return Promise.resolve();
    }
    return this.afterFsync(() => {
      if (update.snapshot !== null) {
        this.snapshot = update.snapshot;
        this.entries = [];
      }
      if (update.entries.length > 0) this.appendEntries(update.entries);
      const hs = update.hardState ?? this.unsyncedHardState;
      if (hs !== null) this.hardState = hs;
      this.unsyncedHardState = null;
    });
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.afterFsync(() => {
      if (this.snapshot === null || snapshot.meta.index > this.snapshot.meta.index) this.snapshot = snapshot;
    });
  }

  async saveSnapshotChunks(meta: SnapshotMeta, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    await this.saveSnapshot({ meta, data: await joinChunks(chunks) });
  }

  /** Takes as long as an fsync; only the one snapshot this disk keeps can be read back. */
  loadSnapshot(meta: SnapshotMeta): Promise<Snapshot | null> {
    const incarnation = this.incarnation;
    return new Promise((resolve) => {
      this.scheduler.after(this.fsyncDelay(this.timings.fsyncMaxMs), () => {
        // As for writes, a crashed incarnation's read is abandoned with the node.
        if (incarnation !== this.incarnation) return;
        const kept = this.snapshot;
        resolve(kept?.meta.index === meta.index && kept.meta.term === meta.term ? kept : null);
      });
    });
  }

  compact(index: number): Promise<void> {
    return this.afterFsync(() => {
      this.entries = this.entries.filter((e) => e.index > index);
    });
  }

  snapshotIndex(): number {
    return this.snapshot?.meta.index ?? 0;
  }

  /** Power loss: in-flight and unsynced writes vanish; what was durable stays. */
  crash(): void {
    this.incarnation++;
    this.unsyncedHardState = null;
  }

  private appendEntries(entries: readonly Entry[]): void {
    const first = entries[0];
    assert(first !== undefined, 'no entries');
    const base = this.snapshot?.meta.index ?? 0;
    const lastIndex = this.entries[this.entries.length - 1]?.index ?? base;
    assert(first.index <= lastIndex + 1, `disk append at ${first.index} leaves a gap after ${lastIndex}`);
    this.entries = this.entries.filter((e) => e.index < first.index);
    this.entries.push(...entries);
  }

  /**
   * A stalling disk (the nemesis's slowDisk): fsyncs take up to `maxMs` until called with null.
   * Slow writes keep a node's Ready in flight for long, so messages are stepped meanwhile.
   */
  stall(maxMs: number | null): void {
    this.stallMs = maxMs;
  }

  private fsyncDelay(maxMs: number): number {
    return this.timings.fsyncMinMs + this.prng.next() * (maxMs - this.timings.fsyncMinMs);
  }

  private afterFsync(write: () => void): Promise<void> {
    const incarnation = this.incarnation;
    return new Promise((resolve) => {
      this.scheduler.after(this.fsyncDelay(this.stallMs ?? this.timings.fsyncMaxMs), () => {
        // A crashed incarnation's write never completes; its promise is abandoned with the node.
        if (incarnation !== this.incarnation) return;
        this.fsyncs++;
        write();
        resolve();
      });
    });
  }
}
