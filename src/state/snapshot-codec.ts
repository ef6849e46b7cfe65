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
 *     latin1 value (its bytes), uint createRevision, uint version, uint lease;
 *   uint lease count, then per lease: uint id, uint ttlSeconds.
 * A put's modRevision is its `main`, so it is not stored twice. Format 1 was JSON with base64,
 * which cost a 64-client write load several percent of its CPU and stalled the event loop.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { assert } from '../util/assert.js';
import { ByteReader, ByteWriter } from '../util/bytes.js';
import type { KvState, SnapshotState } from './kv-store.js';
import type { KeyRevision } from './mvcc-store.js';

const formatVersion = 2;
const deleted = 0;
const put = 1;
/**
 * Keys encoded per turn of the event loop when encoding in chunks: about 5 ms of work at 256
 * bytes a value, well under a heartbeat interval. Counted, not timed: the state layer has no
 * clock (DESIGN.md), and the bytes must not depend on how the work was sliced anyway.
 */
const keysPerSlice = 4096;
const noPrefix: Uint8Array = new Uint8Array(0);

/** `prefix` goes in front of the snapshot in the same buffer (the cluster tables: cluster-machine.ts). */
export function encodeKvSnapshot(state: SnapshotState, prefix = noPrefix): Uint8Array {
  const out = new ByteWriter();
  out.raw(prefix);
  const slices = encodeSlices(state, out);
  while (slices.next().done !== true);
  return out.finish();
}

/**
 * The same bytes as encodeKvSnapshot, in chunks, produced over as many turns of the event loop
 * as it takes, so that a large state (a million keys take seconds) neither stalls heartbeats,
 * apply and client I/O nor has to be held whole in memory. `state` must be frozen
 * (KvStore.exportState), since writes go on meanwhile.
 */
export async function* encodeKvSnapshotChunks(state: SnapshotState, prefix = noPrefix): AsyncGenerator<Uint8Array> {
  const out = new ByteWriter();
  out.raw(prefix);
  const slices = encodeSlices(state, out);
  while (slices.next().done !== true) {
    yield* out.takeFull();
    await nextTurn();
  }
  yield* out.takeFull();
  yield out.finish();
}

/** Writes the snapshot into `out`, pausing (yielding) every keysPerSlice keys. */
function* encodeSlices(state: SnapshotState, out: ByteWriter): Generator<void> {
  out.u8(formatVersion);
  out.uint(state.revision);
  out.uint(state.compactRevision);
  out.uint(state.keyCount);
  let keys = 0;
  for (const [key, history] of state.histories) {
    out.latin1(key);
    out.uint(history.length);
    for (const change of history) encodeRevision(out, change);
    if (++keys % keysPerSlice === 0) yield;
  }
  assert(keys === state.keyCount, `KV snapshot: ${keys} keys where ${state.keyCount} were announced`);
  out.uint(state.leases.length);
  for (const { id, ttlSeconds } of state.leases) {
    out.uint(id);
    out.uint(ttlSeconds);
  }
}

function encodeRevision(out: ByteWriter, change: KeyRevision): void {
  out.uint(change.modRevision);
  out.uint(change.sub);
  if (change.value === null) {
    out.u8(deleted);
    return;
  }
  out.u8(put);
  out.latin1(change.value);
  out.uint(change.createRevision);
  out.uint(change.version);
  out.uint(change.lease);
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
    // Sized up front: pushing would leave room for 17 in every key's list.
    const history = new Array<KeyRevision>(input.uint());
    for (let i = 0; i < history.length; i++) history[i] = decodeRevision(input);
    histories.push([key, history]);
  }
  const leases: { id: number; ttlSeconds: number }[] = [];
  for (let n = input.uint(); n > 0; n--) leases.push({ id: input.uint(), ttlSeconds: input.uint() });
  assert(input.done, 'KV snapshot: bytes after the lease table');
  return { revision, compactRevision, keyCount: histories.length, histories, leases };
}

function decodeRevision(input: ByteReader): KeyRevision {
  const modRevision = input.uint();
  const sub = input.uint();
  const kind = input.u8();
  if (kind === deleted) return { modRevision, sub, value: null, createRevision: 0, version: 0, lease: 0 };
  assert(kind === put, `KV snapshot: unknown revision kind ${kind}`);
  const value = input.latin1();
  return { modRevision, sub, value, createRevision: input.uint(), version: input.uint(), lease: input.uint() };
}
