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
 * changed), then its snapshot, entries and commit index to the WAL in one write and one
 * fdatasync, so a node never holds entries of a term newer than its durable term.
 */
import { join } from 'node:path';
import type { HardState, Snapshot } from '../raft/index.js';
import type { LogStorage, LogUpdate, PersistedState } from '../node/index.js';
import { RecordType, type WalRecord } from './codec.js';
import { StorageError, corruptionAdvice } from './errors.js';
import { ensureDir, removeTempFiles } from './files.js';
import { readHardState, writeHardState } from './hard-state-file.js';
import { lockDataDir, type DirLock } from './lock.js';
import { SnapshotStore } from './snapshot-store.js';
import { Wal, type WalContents, type WalStats } from './wal.js';

export interface DiskStorageOptions {
  readonly dir: string;
  /** WAL segment size bound (default 64 MiB). */
  readonly segmentBytesMax?: number;
  /** Snapshots kept on disk (default 3). */
  readonly snapshotsKept?: number;
  /** Recovery warnings (a torn tail cut off); default: standard error. */
  readonly warn?: (message: string) => void;
}

const emptyHardState: HardState = { term: 0, vote: null, commit: 0 };

export class DiskStorage implements LogStorage {
  private wal: Wal | null = null;
  private durableHardState: HardState = emptyHardState;
  /** Every operation runs after the previous one finished: the WAL has one writer. */
  private queue: Promise<unknown> = Promise.resolve();

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
      const hardState = (await readHardState(this.options.dir)) ?? emptyHardState;
      const snapshot = await this.snapshots.loadNewest();
      const { wal, contents } = await Wal.open({
        dir: join(this.options.dir, 'wal'),
        segmentBytesMax: this.options.segmentBytesMax ?? 64 * 1024 * 1024,
        warn: this.options.warn ?? ((message) => process.stderr.write(`quorate: warning: ${message}\n`)),
      });
      this.wal = wal;
      this.durableHardState = hardState;
      return this.reconcile(hardState, snapshot, contents);
    });
  }

  save(update: LogUpdate): Promise<void> {
    return this.serialize(async () => {
      const wal = this.openWal();
      const hs = update.hardState;
      if (hs !== null && (hs.term !== this.durableHardState.term || hs.vote !== this.durableHardState.vote)) {
        await writeHardState(this.options.dir, hs);
        this.durableHardState = hs;
      }
      const records: WalRecord[] = [];
      if (update.snapshot !== null) {
        await this.snapshots.save(update.snapshot);
        records.push({ type: RecordType.Reset, index: update.snapshot.meta.index, term: update.snapshot.meta.term });
      }
      for (const entry of update.entries) records.push({ type: RecordType.Entry, entry });
      if (hs !== null) records.push({ type: RecordType.Commit, commit: hs.commit });
      await wal.append(records, update.sync);
    });
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.serialize(() => this.snapshots.save(snapshot));
  }

  compact(index: number): Promise<void> {
    return this.serialize(() => this.openWal().compact(index));
  }

  /** Close the WAL and release the lock. */
  close(): Promise<void> {
    return this.serialize(async () => {
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

  /** Combine the newest snapshot with the WAL into the state the core starts from. */
  private reconcile(hs: HardState, snapshot: Snapshot | null, wal: WalContents): PersistedState {
    const inconsistent = (what: string): StorageError => new StorageError('InconsistentData', `data directory ${this.options.dir}: ${what}. ${corruptionAdvice}`);
    let entries = wal.entries;
    let lastIndex = wal.baseIndex + entries.length;
    if (snapshot === null) {
      if (wal.baseIndex > 0) throw inconsistent(`the WAL starts after index ${wal.baseIndex} but there is no snapshot covering the entries before it`);
    } else {
      const { index, term } = snapshot.meta;
      if (index < wal.baseIndex) throw inconsistent(`the WAL starts after index ${wal.baseIndex} but the newest snapshot is at ${index}`);
      const walTerm = index === wal.baseIndex ? wal.baseTerm : entries[index - wal.baseIndex - 1]?.term;
      // A snapshot received from the leader replaces the log; if its reset record did not reach
      // the disk before a crash, the WAL still holds the old log, which the snapshot overrides.
      entries = walTerm === term ? entries.slice(index - wal.baseIndex) : [];
      lastIndex = index + entries.length;
    }
    const commit = Math.max(hs.commit, wal.commit, snapshot?.meta.index ?? 0);
    if (commit > lastIndex && entries.length > 0) throw inconsistent(`the commit index ${commit} is beyond the last entry ${lastIndex}`);
    return { hardState: { term: hs.term, vote: hs.vote, commit: Math.min(commit, lastIndex) }, snapshot, entries };
  }
}
