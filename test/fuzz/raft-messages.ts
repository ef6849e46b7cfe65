/**
 * Generators of valid raft messages and protocol frames (src/raft/types.ts,
 * src/transport/protocol.ts), for round trips and as the base that mutations start from.
 */
import fc from 'fast-check';
import type { ConfChange, Entry, Message, MessageType, Snapshot } from '../../src/raft/index.js';
import type { Frame } from '../../src/transport/protocol.js';
import { wireValue } from './byte-streams.js';

const messageTypes: readonly MessageType[] = [
  'MsgApp', 'MsgAppResp', 'MsgPreVote', 'MsgPreVoteResp', 'MsgVote', 'MsgVoteResp', 'MsgHeartbeat',
  'MsgHeartbeatResp', 'MsgSnap', 'MsgReadIndex', 'MsgReadIndexResp', 'MsgTimeoutNow', 'MsgTransferLeader',
];

/** Plain objects, as the decoders build them (fast-check also makes null-prototype ones by default). */
function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

/** Any text, lone surrogates included: msgpack carries them, and ids and contexts are opaque here. */
const text = fc.string({ unit: 'binary', maxLength: 12 });
const count = fc.oneof(fc.nat({ max: 1000 }), fc.maxSafeNat());

const entry: fc.Arbitrary<Entry> = fc.oneof(
  record({ type: fc.constant('normal' as const), index: count, term: count, data: fc.uint8Array({ maxLength: 32 }) }),
  record({
    type: fc.constant('conf' as const),
    index: count,
    term: count,
    change: record({ type: fc.constantFrom<ConfChange['type']>('addLearner', 'promote', 'remove'), nodeId: text }),
  }),
);

export const snapshot: fc.Arbitrary<Snapshot> = record({
  meta: record({ index: count, term: count, conf: record({ voters: fc.array(text, { maxLength: 4 }), learners: fc.array(text, { maxLength: 3 }) }) }),
  data: fc.uint8Array({ maxLength: 64 }),
});

export const message: fc.Arbitrary<Message> = record({
  type: fc.constantFrom(...messageTypes),
  from: text,
  to: text,
  term: count,
  logTerm: count,
  index: count,
  entries: fc.array(entry, { maxLength: 4 }),
  commit: count,
  reject: fc.boolean(),
  rejectHint: count,
  context: text,
  snapshot: fc.option(snapshot, { nil: null }),
});

/** A MsgSnap that heads a snapshot stream (its data travels in the chunks). */
const snapshotHeader: fc.Arbitrary<Message> = fc.tuple(message, snapshot).map(([m, s]) => ({ ...m, type: 'MsgSnap', snapshot: s }));

export const frame: fc.Arbitrary<Frame> = fc.oneof(
  record({ kind: fc.constant('hello' as const), nodeId: text, clusterId: text, version: count }),
  record({ kind: fc.constant('raft' as const), messages: fc.array(message, { maxLength: 3 }) }),
  fc.constant({ kind: 'ping' as const }),
  record({ kind: fc.constant('request' as const), id: count, method: text, body: wireValue }),
  record({ kind: fc.constant('response' as const), id: count, ok: fc.constant(true as const), body: wireValue }),
  record({ kind: fc.constant('response' as const), id: count, ok: fc.constant(false as const), code: text, message: text }),
  record({
    kind: fc.constant('snapshot' as const),
    stream: count,
    seq: count,
    totalBytes: count,
    last: fc.boolean(),
    header: fc.option(snapshotHeader, { nil: null }),
    data: fc.uint8Array({ maxLength: 64 }),
  }),
);
