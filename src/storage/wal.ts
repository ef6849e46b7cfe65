/**
 * The write-ahead log: numbered segment files (`<seq>.wal`, 16 hex digits) of bounded size, each
 * starting with a header record and, once the next segment was started, ending with a seal.
 * Appends are group-committed: one Ready's records (however many proposals it carries) go out
 * in one write and become durable with one fdatasync, and the promise resolves only after that
 * fdatasync returned.
 *
 * Replay rules: an entry whose index is at or below the current last index replaces the suffix
 * from that index (a follower overwriting an old leader's uncommitted entries); a reset record
 * replaces the whole log by a snapshot's position; the newest commit record wins.
 *
 * Recovery verifies every record and that the segments fit together (sequence numbers, each
 * header continuing exactly where the previous seal left the log). Undecodable bytes in the last
 * segment are a write torn by a crash: they are reported as a torn tail, which the owner cuts
 * off (with a warning saying how many bytes went) only after checking that nothing below the
 * durable commit index is lost. Damage anywhere else is corruption: the node refuses to start,
 * naming the file and offset.
 */
import { open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../util/assert.js';
import type { Entry } from '../raft/index.js';
import { RecordType, SegmentBytes, decodeRecord, encodeRecords, type SegmentHeader, type WalRecord } from './codec.js';
import { StorageError, corruptionAdvice } from './errors.js';
import { fsyncDir, readWhole, tempSuffix } from './files.js';
import { elapsedMs, type StorageObserver } from './observer.js';

export interface WalOptions {
  readonly dir: string;
  /** A segment that reaches this size is closed and a new one started. */
  readonly segmentBytesMax: number;
  /** Where recovery reports a torn tail it cut off. */
  readonly warn: (message: string) => void;
  /** Told how long each append and fdatasync took. */
  readonly observer?: StorageObserver;
}

/** The log as replayed from the WAL. */
export interface WalContents {
  /** Index and term just before `entries[0]`: a snapshot position or the oldest segment's base. */
  readonly baseIndex: number;
  readonly baseTerm: number;
  readonly entries: Entry[];
  readonly commit: number;
}

interface SegmentInfo {
  readonly seq: number;
  readonly path: string;
  readonly prevIndex: number;
}

export interface WalStats {
  writes: number;
  fdatasyncs: number;
  bytes: number;
}

export class Wal {
  private handle: FileHandle | null = null;
  private segments: SegmentInfo[] = [];
  private size = 0;
  /** Recovery found the newest segment sealed: appends go to a new one. */
  private newestSealed = false;
  private recoveredSize = 0;
  private lastIndexWritten = 0;
  private lastTerm = 0;
  readonly stats: WalStats = { writes: 0, fdatasyncs: 0, bytes: 0 };

  private constructor(private readonly options: WalOptions) {}

  /**
   * Read and verify the WAL in `options.dir`. Nothing is changed on disk yet: the caller checks
   * the contents against the hard state and snapshot, then calls `startWriting`.
   */
  static async recover(options: WalOptions): Promise<{ wal: Wal; contents: WalContents; tornTail: TornTail | null }> {
    const wal = new Wal(options);
    const { contents, tornTail } = await wal.replayAll();
    return { wal, contents, tornTail };
  }

  /** Cut off the torn tail (if any) and open the newest segment, or start one, for appending. */
  async startWriting(tornTail: TornTail | null): Promise<void> {
    if (tornTail !== null) await this.cutTornTail(tornTail);
    const newest = this.segments[this.segments.length - 1];
    if (newest === undefined || this.newestSealed) {
      // Empty directory, or a crash between sealing a segment and starting the next.
      await this.startSegment((newest?.seq ?? 0) + 1, this.lastIndexWritten, this.lastTerm);
    } else {
      this.size = this.recoveredSize;
      this.handle = await open(newest.path, 'a');
    }
  }

  /** Append records; with `sync`, resolve only once they are durable (one write, one fdatasync). */
  async append(records: readonly WalRecord[], sync: boolean): Promise<void> {
    if (records.length === 0 && !sync) return;
    const startedMs = performance.now();
    const handle = this.openHandle();
    let written = 0;
    if (records.length > 0) {
      const bytes = encodeRecords(records);
      await handle.write(bytes);
      written = bytes.byteLength;
      this.size += written;
      this.stats.writes++;
      this.stats.bytes += written;
      this.track(records);
    }
    if (sync) {
      const syncStartedMs = performance.now();
      await handle.datasync();
      this.stats.fdatasyncs++;
      this.options.observer?.walSynced(elapsedMs(syncStartedMs));
    }
    this.options.observer?.walAppended(elapsedMs(startedMs), written);
    if (this.size >= this.options.segmentBytesMax) await this.rotate();
  }

  /** Remove whole segments that hold only entries up to `index` (a snapshot now covers them). */
  async compact(index: number): Promise<void> {
    let removed = 0;
    // A segment may go once the next one starts at or before `index`: everything it held is
    // then covered, and the snapshot lies strictly inside what remains.
    while (this.segments.length > 1 && (this.segments[1]?.prevIndex ?? Infinity) < index) {
      const [oldest] = this.segments.splice(0, 1);
      if (oldest !== undefined) await rm(oldest.path, { force: true });
      removed++;
    }
    if (removed > 0) await fsyncDir(this.options.dir);
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
  }

  /** The newest segment's path and size after recovery, for messages about a short log. */
  newestSegment(): { readonly path: string; readonly size: number } | null {
    const newest = this.segments[this.segments.length - 1];
    return newest === undefined ? null : { path: newest.path, size: this.recoveredSize };
  }

  private openHandle(): FileHandle {
    assert(this.handle !== null, 'the WAL is closed');
    return this.handle;
  }

  private current(): SegmentInfo {
    const segment = this.segments[this.segments.length - 1];
    assert(segment !== undefined, 'the WAL has no segment');
    return segment;
  }

  private track(records: readonly WalRecord[]): void {
    for (const record of records) {
      if (record.type === RecordType.Entry) {
        this.lastIndexWritten = record.entry.index;
        this.lastTerm = record.entry.term;
      } else if (record.type === RecordType.Reset) {
        this.lastIndexWritten = record.index;
        this.lastTerm = record.term;
      }
    }
  }

  /** Seal the current segment and start the next, whose header records the log's position. */
  private async rotate(): Promise<void> {
    await this.openHandle().write(encodeRecords([{ type: RecordType.Seal, index: this.lastIndexWritten, term: this.lastTerm }]));
    await this.openHandle().datasync();
    this.stats.fdatasyncs++;
    await this.openHandle().close();
    this.handle = null;
    await this.startSegment(this.current().seq + 1, this.lastIndexWritten, this.lastTerm);
  }

  /**
   * Create a segment atomically: its header is written and synced under a temp name, then
   * renamed into place and the directory synced, so a crash mid-rotation leaves either no new
   * segment or a complete one.
   */
  private async startSegment(seq: number, prevIndex: number, prevTerm: number): Promise<void> {
    const path = join(this.options.dir, `${seq.toString(16).padStart(16, '0')}.wal`);
    const temp = `${path}${tempSuffix}`;
    const header = encodeRecords([{ type: RecordType.SegmentHeader, header: { seq, prevIndex, prevTerm } }]);
    const handle = await open(temp, 'w', 0o600);
    await handle.write(header);
    await handle.datasync();
    await handle.close();
    await rename(temp, path);
    await fsyncDir(this.options.dir);
    this.segments.push({ seq, path, prevIndex });
    this.size = header.byteLength;
    this.lastIndexWritten = prevIndex;
    this.lastTerm = prevTerm;
    this.handle = await open(path, 'a');
  }

  // ---------------------------------------------------------------------------------------------
  // Recovery

  private async replayAll(): Promise<{ contents: WalContents; tornTail: TornTail | null }> {
    const names = (await readdir(this.options.dir)).filter((n) => /^[0-9a-f]{16}\.wal$/.test(n)).sort();
    const replay = new Replay();
    const paths = names.map((name) => join(this.options.dir, name));
    // Read the next segment while this one is checked and replayed.
    let next: Promise<Uint8Array> | null = paths[0] === undefined ? null : readWhole(paths[0]);
    let tornTail: TornTail | null = null;
    for (const [i, name] of names.entries()) {
      const path = paths[i] ?? '';
      const seq = Number.parseInt(name, 16);
      const previous = this.segments[this.segments.length - 1];
      if (previous !== undefined && seq !== previous.seq + 1) {
        const missing = join(this.options.dir, `${(previous.seq + 1).toString(16).padStart(16, '0')}.wal`);
        throw new StorageError('CorruptWal', `WAL segment ${missing} is missing: ${previous.path} is followed by ${path}. ${corruptionAdvice}`);
      }
      const bytesOf = next ?? readWhole(path);
      const following = paths[i + 1];
      next = following === undefined ? null : readWhole(following);
      // A failure to read ahead surfaces when that segment's turn comes.
      next?.catch(() => undefined);
      const last = i === names.length - 1;
      const result = replaySegment(path, new SegmentBytes(await bytesOf), seq, last, replay);
      if (result.header !== null) this.segments.push({ seq, path, prevIndex: result.header.prevIndex });
      tornTail = result.tornTail;
      this.newestSealed = result.sealed;
      this.recoveredSize = result.tornTail?.offset ?? (await bytesOf).byteLength;
    }
    if (tornTail !== null && tornTail.offset === 0) {
      // The newest segment goes whole; the one before it (if any) is sealed.
      this.newestSealed = this.segments.length > 0;
    }
    this.lastIndexWritten = replay.lastIndex();
    this.lastTerm = replay.lastTerm();
    return { contents: replay.contents(), tornTail };
  }

  private async cutTornTail(torn: TornTail): Promise<void> {
    if (torn.offset === 0) {
      await rm(torn.path, { force: true });
      await fsyncDir(this.options.dir);
    } else {
      const handle = await open(torn.path, 'r+');
      try {
        await handle.truncate(torn.offset);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      this.size = torn.offset;
    }
    this.options.warn(
      `WAL segment ${torn.path}: dropped ${torn.size - torn.offset} bytes from offset ${torn.offset} (${torn.problem}); a write torn by a crash, never acknowledged`,
    );
  }
}

/** Undecodable bytes at the end of the newest segment, from `offset` to `size`. */
export interface TornTail {
  readonly path: string;
  readonly offset: number;
  readonly size: number;
  readonly problem: string;
}

interface SegmentReplay {
  /** Null when the newest segment lost even its header (then `tornTail.offset` is 0). */
  readonly header: SegmentHeader | null;
  readonly sealed: boolean;
  readonly tornTail: TornTail | null;
}

/** Replay one segment's records into `replay`, throwing on anything but a torn newest tail. */
function replaySegment(path: string, segment: SegmentBytes, seq: number, last: boolean, replay: Replay): SegmentReplay {
  const size = segment.bytes.byteLength;
  const corrupt = (offset: number, problem: string): StorageError =>
    new StorageError('CorruptWal', `WAL segment ${path} is corrupt at offset ${offset}: ${problem}. ${corruptionAdvice}`);
  let at = 0;
  let header: SegmentHeader | null = null;
  let sealed = false;
  while (at < size) {
    const record = decodeRecord(segment, at);
    if (typeof record === 'string') {
      if (!last) throw corrupt(at, record);
      return { header, sealed, tornTail: { path, offset: header === null ? 0 : at, size, problem: record } };
    }
    // A record with a valid checksum that does not fit the log was written that way: that is
    // corruption (or a bug), never a torn write, even in the newest segment.
    if (sealed) throw corrupt(at, 'a record after the seal');
    if (header === null && record.type === RecordType.SegmentHeader && record.header.seq !== seq) {
      throw corrupt(at, `the header says segment ${record.header.seq}, the file name says ${seq}`);
    }
    const problem = replay.apply(record, header === null);
    if (problem !== null) throw corrupt(at, problem);
    if (record.type === RecordType.SegmentHeader) header = record.header;
    if (record.type === RecordType.Seal) sealed = true;
    at = segment.recordEnd(at);
  }
  if (header === null) {
    if (!last) throw corrupt(0, 'the file is empty');
    return { header, sealed, tornTail: { path, offset: 0, size, problem: 'the file is empty' } };
  }
  if (!last && !sealed) throw corrupt(size, 'the segment ends without its seal (the record written when the next segment was started): it was cut short');
  return { header, sealed, tornTail: null };
}

/** The replay state machine: applies records in order and reports inconsistencies. */
class Replay {
  private baseIndex = 0;
  private baseTerm = 0;
  private entries: Entry[] = [];
  private commit = 0;

  /** Apply a record; returns a description of the problem if it does not fit. */
  apply(record: WalRecord, expectHeader: boolean): string | null {
    if (expectHeader !== (record.type === RecordType.SegmentHeader)) return expectHeader ? 'the segment does not start with a header' : 'a second segment header';
    switch (record.type) {
      case RecordType.SegmentHeader:
        return this.startSegment(record.header);
      case RecordType.Entry:
        return this.appendEntry(record.entry);
      case RecordType.Commit:
        this.commit = Math.max(this.commit, record.commit);
        return null;
      case RecordType.Reset:
        this.baseIndex = record.index;
        this.baseTerm = record.term;
        this.entries = [];
        return null;
      case RecordType.Seal:
        return record.index === this.lastIndex() && record.term === this.lastTerm()
          ? null
          : `the seal says the log ends at ${record.index} (term ${record.term}) but it ends at ${this.lastIndex()} (term ${this.lastTerm()})`;
    }
  }

  private startSegment(header: SegmentHeader): string | null {
    if (this.entries.length === 0 && this.baseIndex === 0) {
      // The oldest remaining segment: older ones were compacted away.
      this.baseIndex = header.prevIndex;
      this.baseTerm = header.prevTerm;
      return null;
    }
    return header.prevIndex === this.lastIndex() && header.prevTerm === this.lastTerm()
      ? null
      : `the segment continues the log after index ${header.prevIndex} (term ${header.prevTerm}) but the log before it ends at ${this.lastIndex()} (term ${this.lastTerm()})`;
  }

  private appendEntry(entry: Entry): string | null {
    if (entry.index <= this.baseIndex) return null;
    if (entry.index > this.lastIndex() + 1) return `entry ${entry.index} leaves a gap after ${this.lastIndex()}`;
    this.entries.length = entry.index - this.baseIndex - 1;
    this.entries.push(entry);
    return null;
  }

  lastIndex(): number {
    return this.baseIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.entries[this.entries.length - 1]?.term ?? this.baseTerm;
  }

  contents(): WalContents {
    return { baseIndex: this.baseIndex, baseTerm: this.baseTerm, entries: this.entries, commit: this.commit };
  }
}
