/**
 * The write-ahead log: numbered segment files (`<seq>.wal`, 16 hex digits) of bounded size, each
 * starting with a header record. Appends are group-committed: one Ready's records (however many
 * proposals it carries) go out in one write and become durable with one fdatasync, and the
 * promise resolves only after that fdatasync returned.
 *
 * Replay rules: an entry whose index is at or below the current last index replaces the suffix
 * from that index (a follower overwriting an old leader's uncommitted entries); a reset record
 * replaces the whole log by a snapshot's position; the newest commit record wins.
 *
 * Recovery verifies every record. Damage in the last segment is a write torn by a crash: the
 * segment is cut back to the last good record with a warning saying how many bytes went (those
 * records were never acknowledged, because acknowledgement waits for the fdatasync of the batch
 * that holds them). Damage anywhere else is corruption: the node refuses to start, naming the
 * file and offset.
 */
import { open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../util/assert.js';
import type { Entry } from '../raft/index.js';
import { RecordType, SegmentBytes, decodeRecord, encodeRecords, type SegmentHeader, type WalRecord } from './codec.js';
import { StorageError, corruptionAdvice } from './errors.js';
import { fsyncDir, readWhole, tempSuffix } from './files.js';

export interface WalOptions {
  readonly dir: string;
  /** A segment that reaches this size is closed and a new one started. */
  readonly segmentBytesMax: number;
  /** Where recovery reports a torn tail it cut off. */
  readonly warn: (message: string) => void;
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
  private lastIndex = 0;
  private lastTerm = 0;
  readonly stats: WalStats = { writes: 0, fdatasyncs: 0, bytes: 0 };

  private constructor(private readonly options: WalOptions) {}

  /** Open (and recover) the WAL in `options.dir`, creating the first segment if there is none. */
  static async open(options: WalOptions): Promise<{ wal: Wal; contents: WalContents }> {
    const wal = new Wal(options);
    const contents = await wal.recover();
    if (wal.segments.length === 0) await wal.startSegment(1, contents.baseIndex, contents.baseTerm);
    else wal.handle = await open(wal.current().path, 'a');
    return { wal, contents };
  }

  /** Append records; with `sync`, resolve only once they are durable (one write, one fdatasync). */
  async append(records: readonly WalRecord[], sync: boolean): Promise<void> {
    if (records.length === 0 && !sync) return;
    const handle = this.openHandle();
    if (records.length > 0) {
      const bytes = encodeRecords(records);
      await handle.write(bytes);
      this.size += bytes.byteLength;
      this.stats.writes++;
      this.stats.bytes += bytes.byteLength;
      this.track(records);
    }
    if (sync) {
      await handle.datasync();
      this.stats.fdatasyncs++;
    }
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

  segmentCount(): number {
    return this.segments.length;
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
        this.lastIndex = record.entry.index;
        this.lastTerm = record.entry.term;
      } else if (record.type === RecordType.Reset) {
        this.lastIndex = record.index;
        this.lastTerm = record.term;
      }
    }
  }

  /** Close the current segment and start the next, whose header records the log's position. */
  private async rotate(): Promise<void> {
    await this.openHandle().datasync();
    this.stats.fdatasyncs++;
    await this.openHandle().close();
    this.handle = null;
    await this.startSegment(this.current().seq + 1, this.lastIndex, this.lastTerm);
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
    this.lastIndex = prevIndex;
    this.lastTerm = prevTerm;
    this.handle = await open(path, 'a');
  }

  // ---------------------------------------------------------------------------------------------
  // Recovery

  private async recover(): Promise<WalContents> {
    const names = (await readdir(this.options.dir)).filter((n) => /^[0-9a-f]{16}\.wal$/.test(n)).sort();
    const replay = new Replay();
    const paths = names.map((name) => join(this.options.dir, name));
    // Read the next segment while this one is checked and replayed.
    let next: Promise<Uint8Array> | null = paths[0] === undefined ? null : readWhole(paths[0]);
    for (const [i, name] of names.entries()) {
      const path = paths[i] ?? '';
      const last = i === names.length - 1;
      const bytesOf = next ?? readWhole(path);
      const following = paths[i + 1];
      next = following === undefined ? null : readWhole(following);
      // A failure to read ahead surfaces when that segment's turn comes.
      next?.catch(() => undefined);
      const header = await this.replaySegment(path, bytesOf, last, replay);
      if (header === null) continue;
      const expectedSeq = (this.segments[this.segments.length - 1]?.seq ?? header.seq - 1) + 1;
      if (header.seq !== expectedSeq || name !== `${header.seq.toString(16).padStart(16, '0')}.wal`) {
        throw new StorageError('CorruptWal', `WAL segment ${path} is out of sequence (expected segment ${expectedSeq}); a segment is missing or misplaced. ${corruptionAdvice}`);
      }
      this.segments.push({ seq: header.seq, path, prevIndex: header.prevIndex });
    }
    this.lastIndex = replay.lastIndex();
    this.lastTerm = replay.lastTerm();
    return replay.contents();
  }

  /** Replay one segment; returns its header, or null if a torn last segment was dropped whole. */
  private async replaySegment(path: string, bytesOf: Promise<Uint8Array>, last: boolean, replay: Replay): Promise<SegmentHeader | null> {
    const segment = new SegmentBytes(await bytesOf);
    const bytes = segment.bytes;
    let at = 0;
    let header: SegmentHeader | null = null;
    const corrupt = (offset: number, problem: string): StorageError =>
      new StorageError('CorruptWal', `WAL segment ${path} is corrupt at offset ${offset}: ${problem}. ${corruptionAdvice}`);
    while (at < bytes.byteLength) {
      const record = decodeRecord(segment, at);
      if (typeof record === 'string') {
        if (!last) throw corrupt(at, record);
        await this.cutTornTail(path, at, bytes.byteLength, record);
        break;
      }
      // A record with a valid checksum that does not fit the log was written that way: that is
      // corruption (or a bug), never a torn write, even in the last segment.
      const problem = replay.apply(record, header === null);
      if (problem !== null) throw corrupt(at, problem);
      if (record.type === RecordType.SegmentHeader) header = record.header;
      at = segment.recordEnd(at);
    }
    if (last) this.size = at;
    if (header === null && last) {
      // The newest segment lost even its header: nothing in it was ever acknowledged.
      await rm(path, { force: true });
      await fsyncDir(this.options.dir);
      return null;
    }
    if (header === null) throw new StorageError('CorruptWal', `WAL segment ${path} has no header. ${corruptionAdvice}`);
    return header;
  }

  private async cutTornTail(path: string, at: number, size: number, problem: string): Promise<void> {
    const handle = await open(path, 'r+');
    try {
      await handle.truncate(at);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    this.options.warn(
      `WAL segment ${path}: dropped ${size - at} bytes from offset ${at} (${problem}); a write torn by a crash, never acknowledged`,
    );
  }
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
    }
  }

  private startSegment(header: SegmentHeader): string | null {
    if (this.entries.length === 0 && this.baseIndex === 0) {
      // The oldest remaining segment: older ones were compacted away.
      this.baseIndex = header.prevIndex;
      this.baseTerm = header.prevTerm;
      return null;
    }
    return header.prevIndex === this.lastIndex() ? null : `the segment starts after index ${header.prevIndex} but the log before it ends at ${this.lastIndex()}`;
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
