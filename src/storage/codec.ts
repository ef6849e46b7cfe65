/**
 * The WAL's record format: `[length u32][crc32c u32][type u8][payload]`, little-endian, where
 * `length` counts the payload and the CRC-32C covers the type byte and the payload. A record is
 * validated right before it is written (encode) and right after it is read (decode).
 *
 * Payloads (integers below 2^53 are stored as float64 to keep index and term exact):
 * - segment header: magic "QWAL", format version, segment sequence, index and term of the
 *   entry just before the segment's first entry (the log's base when older segments are gone);
 * - entry: index, term, entry type, then the data (normal) or change type and node id (conf);
 * - commit: the commit index (written without fsync; it can be relearned from a quorum);
 * - reset: the log was replaced by a snapshot at (index, term); later entries follow it;
 * - seal: the last record of a segment that was closed because the next one was started,
 *   with the log's last index and term at that moment. A non-last segment without its seal
 *   was cut short.
 */
import { assert } from '../util/assert.js';
import type { ConfChange, Entry, NormalEntry } from '../raft/index.js';
import { crc32c } from './crc32c.js';

export const recordHeaderBytes = 9;
/** A record larger than this is damage, not data: entries are bounded far below it. */
export const recordBytesMax = 64 * 1024 * 1024;
const walMagic = 0x4c415751; // "QWAL"
export const walFormatVersion = 1;

export const RecordType = { SegmentHeader: 1, Entry: 2, Commit: 3, Reset: 4, Seal: 5 } as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

export interface SegmentHeader {
  readonly seq: number;
  readonly prevIndex: number;
  readonly prevTerm: number;
}

export type WalRecord =
  | { readonly type: typeof RecordType.SegmentHeader; readonly header: SegmentHeader }
  | { readonly type: typeof RecordType.Entry; readonly entry: Entry }
  | { readonly type: typeof RecordType.Commit; readonly commit: number }
  | { readonly type: typeof RecordType.Reset; readonly index: number; readonly term: number }
  | { readonly type: typeof RecordType.Seal; readonly index: number; readonly term: number };

const changeTypes: readonly ConfChange['type'][] = ['addLearner', 'promote', 'remove'];
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function payloadSize(record: WalRecord): number {
  switch (record.type) {
    case RecordType.SegmentHeader:
      return 4 + 1 + 8 * 3;
    case RecordType.Entry: {
      const e = record.entry;
      return 17 + (e.type === 'normal' ? e.data.byteLength : 1 + encoder.encode(e.change.nodeId).byteLength);
    }
    case RecordType.Commit:
      return 8;
    case RecordType.Reset:
    case RecordType.Seal:
      return 16;
  }
}

/** Encode records into one buffer, ready for a single write. */
export function encodeRecords(records: readonly WalRecord[]): Uint8Array {
  const total = records.reduce((sum, r) => sum + recordHeaderBytes + payloadSize(r), 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const record of records) {
    const size = payloadSize(record);
    assert(size <= recordBytesMax, `record of ${size} bytes exceeds the ${recordBytesMax}-byte limit`);
    view.setUint32(at, size, true);
    out[at + 8] = record.type;
    writePayload(record, out, view, at + recordHeaderBytes);
    view.setUint32(at + 4, crc32c(out, at + 8, at + recordHeaderBytes + size), true);
    at += recordHeaderBytes + size;
  }
  assert(at === total, 'record sizes disagree');
  return out;
}

function writePayload(record: WalRecord, out: Uint8Array, view: DataView, at: number): void {
  switch (record.type) {
    case RecordType.SegmentHeader:
      view.setUint32(at, walMagic, true);
      out[at + 4] = walFormatVersion;
      view.setFloat64(at + 5, record.header.seq, true);
      view.setFloat64(at + 13, record.header.prevIndex, true);
      view.setFloat64(at + 21, record.header.prevTerm, true);
      return;
    case RecordType.Entry: {
      const e = record.entry;
      view.setFloat64(at, e.index, true);
      view.setFloat64(at + 8, e.term, true);
      if (e.type === 'normal') {
        out[at + 16] = 0;
        out.set(e.data, at + 17);
      } else {
        out[at + 16] = 1;
        out[at + 17] = changeTypes.indexOf(e.change.type);
        out.set(encoder.encode(e.change.nodeId), at + 18);
      }
      return;
    }
    case RecordType.Commit:
      view.setFloat64(at, record.commit, true);
      return;
    case RecordType.Reset:
    case RecordType.Seal:
      view.setFloat64(at, record.index, true);
      view.setFloat64(at + 8, record.term, true);
      return;
  }
}

/** A segment's bytes with one DataView over them, so decoding allocates no view per record. */
export class SegmentBytes {
  readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Where the record at `at` ends; valid once decodeRecord accepted the record. */
  recordEnd(at: number): number {
    return at + recordHeaderBytes + this.view.getUint32(at, true);
  }
}

/**
 * Decode the record at `at` (it ends at `segment.recordEnd(at)`). Damage (a cut record, a bad
 * checksum, a malformed payload) is returned as a description, never thrown: the caller decides
 * whether it is a torn tail or corruption. Entry data is a view into the segment, so recovery
 * copies nothing.
 */
export function decodeRecord(segment: SegmentBytes, at: number): WalRecord | string {
  const { bytes, view } = segment;
  if (at + recordHeaderBytes > bytes.length) return `a record header is cut short (${bytes.length - at} bytes left)`;
  const size = view.getUint32(at, true);
  if (size > recordBytesMax) return `a record claims ${size} bytes, more than the ${recordBytesMax}-byte limit`;
  const end = at + recordHeaderBytes + size;
  if (end > bytes.length) return `a record of ${size} bytes is cut short (${bytes.length - at - recordHeaderBytes} bytes left)`;
  if (crc32c(bytes, at + 8, end) !== view.getUint32(at + 4, true)) return 'checksum mismatch';
  return decodePayload(bytes[at + 8] as number, segment, at + recordHeaderBytes, end);
}

/** Decode the payload in [p, end) of the segment. */
function decodePayload(type: number, segment: SegmentBytes, p: number, end: number): WalRecord | string {
  const { bytes, view } = segment;
  const size = end - p;
  const f64 = (offset: number): number => view.getFloat64(p + offset, true);
  switch (type) {
    case RecordType.SegmentHeader:
      if (size !== 29 || view.getUint32(p, true) !== walMagic) return 'not a Quorate WAL segment header';
      if (bytes[p + 4] !== walFormatVersion) return `unsupported WAL format version ${String(bytes[p + 4])} (this build reads ${walFormatVersion})`;
      return { type, header: { seq: f64(5), prevIndex: f64(13), prevTerm: f64(21) } };
    case RecordType.Entry:
      return decodeEntry(segment, p, end);
    case RecordType.Commit:
      return size === 8 && isCount(f64(0)) ? { type, commit: f64(0) } : 'an invalid commit record';
    case RecordType.Reset:
    case RecordType.Seal:
      return size === 16 && isCount(f64(0)) && isCount(f64(8)) ? { type, index: f64(0), term: f64(8) } : 'an invalid reset or seal record';
    default:
      return `unknown record type ${type}`;
  }
}

function decodeEntry({ bytes, view }: SegmentBytes, p: number, end: number): WalRecord | string {
  if (end - p < 17) return 'an entry record is too short';
  const index = view.getFloat64(p, true);
  const term = view.getFloat64(p + 8, true);
  if (!isCount(index) || index === 0 || !isCount(term)) return 'an entry record has an invalid index or term';
  const type = RecordType.Entry;
  if (bytes[p + 16] === 0) return { type, entry: new RecoveredEntry(index, term, bytes, p + 17, end) };
  const change = changeTypes[bytes[p + 17] ?? 255];
  if (bytes[p + 16] !== 1 || change === undefined || end - p < 19) return 'an entry record has an invalid entry type';
  const nodeId = decodeText(bytes.subarray(p + 18, end));
  if (nodeId === null) return 'an entry record has a node id that is not UTF-8';
  return { type, entry: { type: 'conf', index, term, change: { type: change, nodeId } } };
}

/**
 * A normal entry read back from a segment. Its data stays in the segment buffer and the view is
 * made on access: a recovered log holds millions of entries, and one object each instead of
 * two (entry and view) is what keeps garbage collection from dominating recovery. `data` is
 * a getter on the prototype: code that serializes entries must read the fields by name (as the
 * WAL encoder does), not copy own properties with a spread or a generic encoder.
 */
class RecoveredEntry implements NormalEntry {
  readonly type = 'normal';

  constructor(
    readonly index: number,
    readonly term: number,
    private readonly segment: Uint8Array,
    private readonly start: number,
    private readonly end: number,
  ) {}

  get data(): Uint8Array {
    return this.segment.subarray(this.start, this.end);
  }
}

function decodeText(bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
