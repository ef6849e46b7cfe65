/**
 * LogStorage on the real file system, the production counterpart of the simulator's
 * VirtualDisk (both pass test/storage/conformance). A data directory holds:
 *
 *   LOCK          the owning process's pid (one process per directory)
 *   hardstate     term and vote, replaced atomically when they change
 *   wal/*.wal     the write-ahead log segments
 *   snap/*.snap   the newest few snapshots
 *
 * Writes are serialized. A Ready's hard state goes to its file first (only when term or vote
 * changed), so a node never holds entries of a term newer than its durable term; then a
 * received snapshot to its own file; then the reset marker, entries and commit index to the
 * WAL in one write and one fdatasync. An update that changes only the commit index writes
 * nothing: its record goes with the next append (see pendingCommit).
 */
import { join } from 'node:path';
import type { Entry, HardState, Snapshot, SnapshotMeta } from '../raft/index.js';
import type { LogStorage, LogUpdate, PersistedState } from '../node/index.js';
import { RecordType, type WalRecord } from './codec.js';
import { StorageError, corruptionAdvice } from './errors.js';
import { ensureDir, removeTempFiles } from './files.js';
import { hardStateFileName, readHardState, writeHardState } from './hard-state-file.js';
import { lockDataDir, type DirLock } from './lock.js';
import { elapsedMs, type StorageObserver } from './observer.js';
import { SnapshotStore } from './snapshot-store.js';
import { Wal, type TornTail, type WalContents, type WalStats } from './wal.js';

export interface DiskStorageOptions {
  readonly dir: string;
  /** WAL segment size bound (default 64 MiB). */
  readonly segmentBytesMax?: number;
  /** Snapshots kept on disk (default 3). */
  readonly snapshotsKept?: number;
  /** Recovery warnings (a torn tail cut off); default: standard error. */
  readonly warn?: (message: string) => void;
  /** Told how long WAL appends, fdatasyncs and snapshot files take (the server's metrics). */
  readonly observer?: StorageObserver;
}

const emptyHardState: HardState = { term: 0, vote: null, commit: 0 };

export class DiskStorage implements LogStorage {
  private wal: Wal | null = null;
  private durableHardState: HardState = emptyHardState;
  /** The newest commit index written to the WAL (synced or not). */
  private writtenCommit = 0;
  /**
   * The newest commit index whose record, and so every entry up to it, is known to be on disk
   * (written before an fdatasync that returned). Committed entries are never replaced, so a
   * crash at any later moment leaves the log up to here intact.
   */
  private syncedCommit = 0;
  /**
   * A commit index from an update that changed nothing else (the core asks for no sync then),
   * not yet in the WAL. Writing such an update alone cost every node a thread-pool write per
   * commit (three per request at one client, on the path of the next one); it goes with the
   * next append instead, or at close. Raft does not need the commit index durable: a restarted
   * node learns it again from the leader, and the WAL's record only lets a restart apply sooner.
   */
  private pendingCommit: number | null = null;
  /** WAL and hard-state operations, one at a time: the WAL has one writer. */
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * Snapshot-file operations, one at a time but beside the WAL's queue: writing a large
   * snapshot of this node's own state must not hold back the appends (and fsyncs) behind it.
   */
  private snapshotQueue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: DiskStorageOptions,
    private readonly lock: DirLock,
    private readonly snapshots: SnapshotStore,
  ) {}

  /** Lock the data directory (creating it, mode 0700) and clean up after an interrupted write. */
  static async open(options: DiskStorageOptions): Promise<DiskStorage> {
    await ensureDir(options.dir);
    const lock = await lockDataDir(options.dir);
    try {
      for (const sub of ['wal', 'snap']) await ensureDir(join(options.dir, sub));
      for (const dir of [options.dir, join(options.dir, 'wal'), join(options.dir, 'snap')]) await removeTempFiles(dir);
      return new DiskStorage(options, lock, new SnapshotStore(join(options.dir, 'snap'), options.snapshotsKept ?? 3));
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  /** Recover the durable state; calling it again re-reads everything from disk. */
  load(): Promise<PersistedState> {
    return this.serialize(async () => {
      await this.wal?.close();
      this.wal = null;
      const stored = await readHardState(this.options.dir);
      const snapshot = await this.serializeSnapshots(() => this.snapshots.loadNewest());
      const { wal, contents, tornTail } = await Wal.recover({
        dir: join(this.options.dir, 'wal'),
        segmentBytesMax: this.options.segmentBytesMax ?? 64 * 1024 * 1024,
        warn: this.options.warn ?? ((message) => process.stderr.write(`quorate: warning: ${message}\n`)),
        ...(this.options.observer === undefined ? {} : { observer: this.options.observer }),
      });
      // Check everything fits before changing anything on disk (cutting a torn tail).
      const state = this.reconcile(stored, snapshot, contents, tornTail ?? this.shortLog(wal));
      await wal.startWriting(tornTail);
      this.wal = wal;
      this.durableHardState = state.hardState;
      this.writtenCommit = state.hardState.commit;
      this.syncedCommit = state.hardState.commit;
      this.pendingCommit = null;
      return state;
    });
  }

  save(update: LogUpdate): Promise<void> {
    return this.serialize(async () => {
      const wal = this.openWal();
      const hs = update.hardState;
      if (hs !== null && (hs.term !== this.durableHardState.term || hs.vote !== this.durableHardState.vote)) {
        // The file is written before this update's entries reach the WAL, so it may only vouch
        // for a commit index whose entries are durable and stay so whatever part of this update
        // lands. The log's last index is not such a bound: this update may replace uncommitted
        // entries below it (a crash mid-write then leaves a shorter log, or the old entries,
        // which the hard state must not call committed), and unsynced entries may vanish. The
        // WAL's commit record after the entries carries the rest.
        const durable = { ...hs, commit: Math.min(hs.commit, this.syncedCommit) };
        await writeHardState(this.options.dir, durable);
        this.durableHardState = durable;
      }
      if (!update.sync && update.entries.length === 0 && update.snapshot === null) {
        if (hs !== null) this.pendingCommit = hs.commit;
        return;
      }
      const records: WalRecord[] = [];
      if (update.snapshot !== null) {
        await this.saveSnapshotFile(update.snapshot);
        records.push({ type: RecordType.Reset, index: update.snapshot.meta.index, term: update.snapshot.meta.term });
      }
      for (const entry of update.entries) records.push({ type: RecordType.Entry, entry });
      await this.appendWithCommit(wal, records, hs?.commit ?? this.pendingCommit, update.sync);
    });
  }

  /** Append records and, after them, the newest commit index this node knows (null: none new). */
  private async appendWithCommit(wal: Wal, records: WalRecord[], commit: number | null, sync: boolean): Promise<void> {
    if (commit !== null) records.push({ type: RecordType.Commit, commit });
    this.pendingCommit = null;
    await wal.append(records, sync);
    if (commit !== null) this.writtenCommit = commit;
    if (sync) this.syncedCommit = this.writtenCommit;
  }

  /** Runs beside save(): appends keep flowing while the snapshot is written and fsynced. */
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.saveSnapshotFile(snapshot);
  }

  /** Runs beside save() as saveSnapshot does. */
  saveSnapshotChunks(meta: SnapshotMeta, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    return this.serializeSnapshots(async () => {
      const startedMs = performance.now();
      const bytes = await this.snapshots.saveChunks(meta, chunks);
      this.options.observer?.snapshotSaved(elapsedMs(startedMs), bytes);
    });
  }

  /** Serialized with snapshot writes, so it never reads a file being replaced or removed. */
  loadSnapshot(meta: SnapshotMeta): Promise<Snapshot | null> {
    return this.serializeSnapshots(() => this.snapshots.load(meta));
  }

  compact(index: number): Promise<void> {
    return this.serialize(() => this.openWal().compact(index));
  }

  /** Write a pending commit index, close the WAL and release the lock. */
  close(): Promise<void> {
    return this.serialize(async () => {
      await this.snapshotQueue;
      if (this.wal !== null && this.pendingCommit !== null) await this.appendWithCommit(this.wal, [], this.pendingCommit, true);
      await this.wal?.close();
      this.wal = null;
      await this.lock.release();
    });
  }

  walStats(): WalStats {
    return this.openWal().stats;
  }

  private openWal(): Wal {
    if (this.wal === null) throw new StorageError('InconsistentData', 'storage used before load() or after close()');
    return this.wal;
  }

  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Timed from when the write starts, not from when it was queued: the observer sees the disk. */
  private saveSnapshotFile(snapshot: Snapshot): Promise<void> {
    return this.serializeSnapshots(async () => {
      const startedMs = performance.now();
      const bytes = await this.snapshots.save(snapshot);
      this.options.observer?.snapshotSaved(elapsedMs(startedMs), bytes);
    });
  }

  private serializeSnapshots<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.snapshotQueue.then(operation);
    this.snapshotQueue = result.catch(() => undefined);
    return result;
  }

  /**
   * Combine the hard state, the newest snapshot and the WAL into the state the core starts from,
   * refusing combinations that only damage or a lost file can produce.
   */
  private reconcile(stored: HardState | null, snapshot: Snapshot | null, wal: WalContents, tornTail: TornTail | null): PersistedState {
    const inconsistent = (what: string): StorageError => new StorageError('InconsistentData', `data directory ${this.options.dir}: ${what}. ${corruptionAdvice}`);
    const hs = stored ?? emptyHardState;
    const { entries, lastIndex } = this.logAfter(snapshot, wal, inconsistent);
    const lastTerm = entries[entries.length - 1]?.term ?? snapshot?.meta.term ?? wal.baseTerm;
    if (lastTerm > hs.term) {
      const file = join(this.options.dir, hardStateFileName);
      throw stored === null
        ? new StorageError('CorruptHardState', `hard state file ${file} is missing, but the log holds entries of term ${lastTerm}. ${corruptionAdvice}`)
        : inconsistent(`the hard state (term ${hs.term}) is older than the log's last entry (term ${lastTerm})`);
    }
    if (hs.commit > lastIndex) {
      // The hard state's commit index was durable: the entries up to it were acknowledged.
      if (tornTail !== null) {
        throw new StorageError(
          'CorruptWal',
          `WAL segment ${tornTail.path} is damaged at offset ${tornTail.offset} (${tornTail.problem}), and entries up to the committed index ${hs.commit} were lost with it; this is corruption, not a torn write. ${corruptionAdvice}`,
        );
      }
      throw inconsistent(`the commit index ${hs.commit} is beyond the last entry ${lastIndex}`);
    }
    const commit = Math.min(Math.max(hs.commit, wal.commit, snapshot?.meta.index ?? 0), lastIndex);
    return { hardState: { term: hs.term, vote: hs.vote, commit }, snapshot, entries };
  }

  /**
   * A newest segment that ends cleanly can still have been cut at a record boundary; if the
   * hard state then vouches for entries beyond the log, the end of that segment is the damage.
   */
  private shortLog(wal: Wal): TornTail | null {
    const newest = wal.newestSegment();
    return newest === null ? null : { path: newest.path, offset: newest.size, size: newest.size, problem: 'the segment ends here' };
  }

  /** The WAL's entries after the snapshot, or none when the snapshot replaced the log. */
  private logAfter(snapshot: Snapshot | null, wal: WalContents, inconsistent: (what: string) => StorageError): { entries: Entry[]; lastIndex: number } {
    if (snapshot === null) {
      if (wal.baseIndex > 0) throw inconsistent(`the WAL starts after index ${wal.baseIndex} but there is no snapshot covering the entries before it`);
      return { entries: wal.entries, lastIndex: wal.entries.length };
    }
    const { index, term } = snapshot.meta;
    if (index < wal.baseIndex) throw inconsistent(`the WAL starts after index ${wal.baseIndex} but the newest snapshot is at ${index}`);
    const walTerm = index === wal.baseIndex ? wal.baseTerm : wal.entries[index - wal.baseIndex - 1]?.term;
    // A snapshot received from the leader replaces the log; if its reset record did not reach
    // the disk before a crash, the WAL still holds the old log, which the snapshot overrides.
    const entries = walTerm === term ? wal.entries.slice(index - wal.baseIndex) : [];
    return { entries, lastIndex: index + entries.length };
  }
}
