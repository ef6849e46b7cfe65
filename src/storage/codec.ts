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
 * - reset: the log was replaced by a snapshot at (index, term); later entries follow it.
 */
import { assert } from '../util/assert.js';
import type { ConfChange, Entry } from '../raft/index.js';
import { crc32c } from './crc32c.js';

export const recordHeaderBytes = 9;
/** A record larger than this is damage, not data: entries are bounded far below it. */
export const recordBytesMax = 64 * 1024 * 1024;
const walMagic = 0x4c415751; // "QWAL"
export const walFormatVersion = 1;

export const RecordType = { SegmentHeader: 1, Entry: 2, Commit: 3, Reset: 4 } as const;
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
  | { readonly type: typeof RecordType.Reset; readonly index: number; readonly term: number };

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
      view.setFloat64(at, record.index, true);
      view.setFloat64(at + 8, record.term, true);
      return;
  }
}

export type DecodeResult = { readonly record: WalRecord; readonly next: number } | { readonly damage: string };

/**
 * Decode the record at `at`. Damage (a cut record, a bad checksum, a malformed payload) is
 * reported, never thrown: the caller decides whether it is a torn tail or corruption.
 * Normal entry data is a view into `bytes`, so recovery copies nothing.
 */
export function decodeRecord(bytes: Uint8Array, at: number): DecodeResult {
  if (at + recordHeaderBytes > bytes.length) return { damage: `a record header is cut short (${bytes.length - at} bytes left)` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getUint32(at, true);
  if (size > recordBytesMax) return { damage: `a record claims ${size} bytes, more than the ${recordBytesMax}-byte limit` };
  const end = at + recordHeaderBytes + size;
  if (end > bytes.length) return { damage: `a record of ${size} bytes is cut short (${bytes.length - at - recordHeaderBytes} bytes left)` };
  if (crc32c(bytes, at + 8, end) !== view.getUint32(at + 4, true)) return { damage: 'checksum mismatch' };
  const record = decodePayload(bytes[at + 8] as number, bytes.subarray(at + recordHeaderBytes, end));
  return typeof record === 'string' ? { damage: record } : { record, next: end };
}

function decodePayload(type: number, p: Uint8Array): WalRecord | string {
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const wants = (n: number): boolean => p.byteLength >= n;
  switch (type) {
    case RecordType.SegmentHeader:
      if (p.byteLength !== 29 || view.getUint32(0, true) !== walMagic) return 'not a Quorate WAL segment header';
      if (p[4] !== walFormatVersion) return `unsupported WAL format version ${String(p[4])} (this build reads ${walFormatVersion})`;
      return { type, header: { seq: view.getFloat64(5, true), prevIndex: view.getFloat64(13, true), prevTerm: view.getFloat64(21, true) } };
    case RecordType.Entry: {
      if (!wants(17)) return 'an entry record is too short';
      const index = view.getFloat64(0, true);
      const term = view.getFloat64(8, true);
      if (!isCount(index) || index === 0 || !isCount(term)) return 'an entry record has an invalid index or term';
      if (p[16] === 0) return { type, entry: { type: 'normal', index, term, data: p.subarray(17) } };
      const change = changeTypes[p[17] ?? 255];
      if (p[16] !== 1 || change === undefined || !wants(19)) return 'an entry record has an invalid entry type';
      const nodeId = decodeText(p.subarray(18));
      if (nodeId === null) return 'an entry record has a node id that is not UTF-8';
      return { type, entry: { type: 'conf', index, term, change: { type: change, nodeId } } };
    }
    case RecordType.Commit:
      return p.byteLength === 8 && isCount(view.getFloat64(0, true)) ? { type, commit: view.getFloat64(0, true) } : 'an invalid commit record';
    case RecordType.Reset:
      return p.byteLength === 16 ? { type, index: view.getFloat64(0, true), term: view.getFloat64(8, true) } : 'an invalid reset record';
    default:
      return `unknown record type ${type}`;
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
