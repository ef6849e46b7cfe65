/**
 * The snapshot encoding of the KV state. It is canonical: the same state gives the same bytes
 * however it was reached (fresh, restored, after compaction), so replicas can be compared by
 * their snapshot bytes. Keys come in key order (the B-tree's), each key's history in revision
 * order, leases in id order, and objects are written with a fixed field order. Lease-to-key
 * links and the watch event log are derived on restore, so they cannot disagree with the keys.
 *
 * Layout (JSON, bytes as base64; a binary codec can replace it behind the same two functions):
 *   {"format":1,"revision":R,"compactRevision":C,
 *    "keys":[[key,[[main,sub,null | [value,createRevision,version,lease]],...]],...],
 *    "leases":[[id,ttlSeconds],...]}
 * A put's modRevision is its `main`, so it is not stored twice.
 */
import { Buffer } from 'node:buffer';
import { assert } from '../util/assert.js';
import type { KvState } from './kv-store.js';
import type { KeyRevision } from './mvcc-store.js';

const formatVersion = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

type EncodedKv = [string, number, number, number] | null;
type EncodedRevision = [number, number, EncodedKv];

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function fromBase64(text: unknown): Uint8Array {
  assert(typeof text === 'string', 'snapshot: expected base64 text');
  return new Uint8Array(Buffer.from(text, 'base64'));
}

function integer(value: unknown): number {
  assert(typeof value === 'number' && Number.isSafeInteger(value), 'snapshot: expected an integer');
  return value;
}

function list(value: unknown): unknown[] {
  assert(Array.isArray(value), 'snapshot: expected a list');
  return value as unknown[];
}

function encodeRevision(change: KeyRevision): EncodedRevision {
  const kv = change.kv;
  return [change.main, change.sub, kv === null ? null : [base64(kv.value), kv.createRevision, kv.version, kv.lease]];
}

function decodeRevision(value: unknown): KeyRevision {
  const [main, sub, kv] = list(value);
  const mainRevision = integer(main);
  if (kv === null) return { main: mainRevision, sub: integer(sub), kv: null };
  const [bytes, createRevision, version, lease] = list(kv);
  return {
    main: mainRevision,
    sub: integer(sub),
    kv: { value: fromBase64(bytes), createRevision: integer(createRevision), modRevision: mainRevision, version: integer(version), lease: integer(lease) },
  };
}

export function encodeKvSnapshot(state: KvState): Uint8Array {
  const keys: [string, EncodedRevision[]][] = [];
  for (const [key, history] of state.histories) keys.push([Buffer.from(key, 'latin1').toString('base64'), history.map(encodeRevision)]);
  const leases = state.leases.map(({ id, ttlSeconds }) => [id, ttlSeconds]);
  return encoder.encode(JSON.stringify({ format: formatVersion, revision: state.revision, compactRevision: state.compactRevision, keys, leases }));
}

/** Snapshots are checksummed by storage, so a malformed one is a bug: it fails an assertion. */
export function decodeKvSnapshot(data: Uint8Array): KvState {
  const parsed: unknown = JSON.parse(decoder.decode(data));
  assert(typeof parsed === 'object' && parsed !== null, 'snapshot: expected an object');
  const record = parsed as Record<string, unknown>;
  assert(record.format === formatVersion, `snapshot: unknown format ${String(record.format)}`);
  const histories = list(record.keys).map((entry): [string, KeyRevision[]] => {
    const [key, history] = list(entry);
    return [Buffer.from(fromBase64(key)).toString('latin1'), list(history).map(decodeRevision)];
  });
  const leases = list(record.leases).map((entry) => {
    const [id, ttlSeconds] = list(entry);
    return { id: integer(id), ttlSeconds: integer(ttlSeconds) };
  });
  return { revision: integer(record.revision), compactRevision: integer(record.compactRevision), histories, leases };
}
