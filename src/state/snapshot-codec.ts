/**
 * The snapshot encoding of the KV state. It is canonical: the same state gives the same bytes
 * however it was reached (fresh, restored, after compaction), so replicas can be compared by
 * their snapshot bytes. Keys come in key order (the B-tree's), each key's history in revision
 * order, leases in id order. Lease-to-key links and the watch event log are derived on
 * restore, so they cannot disagree with the keys.
 *
 * Layout (binary, see util/bytes.ts: uint = varint, bytes/latin1 = uint length + data):
 *   u8 format (2), uint revision, uint compactRevision,
 *   uint key count, then per key: latin1 key, uint history length, then per revision:
 *     uint main, uint sub, u8 0 (deleted) | 1 (put) followed by
 *     bytes value, uint createRevision, uint version, uint lease;
 *   uint lease count, then per lease: uint id, uint ttlSeconds.
 * A put's modRevision is its `main`, so it is not stored twice. Format 1 was JSON with base64,
 * which cost a 64-client write load several percent of its CPU and stalled the event loop.
 */
import { assert } from '../util/assert.js';
import { ByteReader, ByteWriter } from '../util/bytes.js';
import type { KvState } from './kv-store.js';
import type { KeyRevision } from './mvcc-store.js';

const formatVersion = 2;
const deleted = 0;
const put = 1;

export function encodeKvSnapshot(state: KvState): Uint8Array {
  const out = new ByteWriter();
  out.u8(formatVersion);
  out.uint(state.revision);
  out.uint(state.compactRevision);
  const histories = [...state.histories];
  out.uint(histories.length);
  for (const [key, history] of histories) {
    out.latin1(key);
    out.uint(history.length);
    for (const change of history) encodeRevision(out, change);
  }
  out.uint(state.leases.length);
  for (const { id, ttlSeconds } of state.leases) {
    out.uint(id);
    out.uint(ttlSeconds);
  }
  return out.finish();
}

function encodeRevision(out: ByteWriter, change: KeyRevision): void {
  out.uint(change.main);
  out.uint(change.sub);
  const kv = change.kv;
  if (kv === null) {
    out.u8(deleted);
    return;
  }
  out.u8(put);
  out.bytes(kv.value);
  out.uint(kv.createRevision);
  out.uint(kv.version);
  out.uint(kv.lease);
}

/** Snapshots are checksummed by storage, so a malformed one is a bug: it fails an assertion. */
export function decodeKvSnapshot(data: Uint8Array): KvState {
  const input = new ByteReader(data, 'KV snapshot');
  const format = input.u8();
  assert(format === formatVersion, `KV snapshot: unknown format ${format}`);
  const revision = input.uint();
  const compactRevision = input.uint();
  const histories: [string, KeyRevision[]][] = [];
  for (let keys = input.uint(); keys > 0; keys--) {
    const key = input.latin1();
    const history: KeyRevision[] = [];
    for (let n = input.uint(); n > 0; n--) history.push(decodeRevision(input));
    histories.push([key, history]);
  }
  const leases: { id: number; ttlSeconds: number }[] = [];
  for (let n = input.uint(); n > 0; n--) leases.push({ id: input.uint(), ttlSeconds: input.uint() });
  assert(input.done, 'KV snapshot: bytes after the lease table');
  return { revision, compactRevision, histories, leases };
}

function decodeRevision(input: ByteReader): KeyRevision {
  const main = input.uint();
  const sub = input.uint();
  const kind = input.u8();
  if (kind === deleted) return { main, sub, kv: null };
  assert(kind === put, `KV snapshot: unknown revision kind ${kind}`);
  const value = input.bytes();
  return { main, sub, kv: { value, createRevision: input.uint(), modRevision: main, version: input.uint(), lease: input.uint() } };
}
