/**
 * Fuzz properties of the message decoder (src/transport/message-codec.ts decodeMessage and
 * src/transport/protocol.ts frameFromWire), which turn what msgpack decoded from a peer into
 * typed frames for the consensus core: any value gives a well-formed frame or a protocol
 * error; a real message with one field changed or removed is accepted only when it is still
 * well-formed and is otherwise refused naming that field; every valid frame round-trips
 * through the real framing and msgpack.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Message } from '../../src/raft/index.js';
import { encodeFrame, FrameDecoder } from '../../src/transport/frame-codec.js';
import { decodeMessage, encodeMessage } from '../../src/transport/message-codec.js';
import { frameFromWire, frameToWire, type Frame } from '../../src/transport/protocol.js';
import { follow, mutated, mutation } from './mutate.js';
import { parsedOrRefused, fuzzProperty, type FuzzProperty } from './property.js';
import { frame, message } from './raft-messages.js';

const protocolError = ['protocol_error'];

const isCount = (n: unknown): boolean => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const isText = (s: unknown): boolean => typeof s === 'string';
const isTextList = (list: unknown): boolean => Array.isArray(list) && list.every(isText);

/** What the core may rely on: every field of the declared type, nothing borrowed from a prototype. */
function assertWellFormed(m: Message): void {
  assert.ok([m.from, m.to, m.context, m.type].every(isText));
  assert.ok([m.term, m.logTerm, m.index, m.commit, m.rejectHint].every(isCount));
  assert.equal(typeof m.reject, 'boolean');
  for (const e of m.entries) {
    assert.ok(isCount(e.index) && isCount(e.term));
    if (e.type === 'normal') assert.ok(e.data instanceof Uint8Array);
    else assert.ok(['addLearner', 'promote', 'remove'].includes(e.change.type) && isText(e.change.nodeId));
  }
  if (m.snapshot !== null) {
    const { meta, data } = m.snapshot;
    assert.ok(isCount(meta.index) && isCount(meta.term) && isTextList(meta.conf.voters) && isTextList(meta.conf.learners) && data instanceof Uint8Array);
  }
}

function assertWellFormedFrame(f: Frame): void {
  if (f.kind === 'raft') f.messages.forEach(assertWellFormed);
  if (f.kind === 'snapshot' && f.header !== null) assertWellFormed(f.header);
}

// Dates too: msgpack decodes its timestamp extension to one.
const anyValue = fc.anything({ maxDepth: 3, withMap: true, withSet: true, withBoxedValues: true, withNullPrototype: true, withTypedArray: true, withSparseArray: true, withDate: true });

/** Arbitrary values, and arbitrary values under the keys a frame or message has. */
const framelike = fc.oneof(
  anyValue,
  fc.record({ kind: fc.constantFrom('hello', 'raft', 'ping', 'request', 'response', 'snapshot', 'other'), messages: fc.array(anyValue, { maxLength: 2 }), header: anyValue }, { requiredKeys: ['kind'] }),
);

const arbitraryValues = fc.property(framelike, (value) => {
  const asFrame = parsedOrRefused(protocolError, () => frameFromWire(value));
  if (asFrame.ok) assertWellFormedFrame(asFrame.value);
  const asMessage = parsedOrRefused(protocolError, () => decodeMessage(value));
  if (asMessage.ok) assertWellFormed(asMessage.value);
});

/** The words a refusal uses for each top-level field of a message (message-codec.ts). */
function fieldWords(field: string | number | undefined): RegExp {
  if (field === 'entries') return /entr|conf change/;
  if (field === 'snapshot') return /snapshot/;
  if (field === 'type') return /message type/;
  return new RegExp(`message ${String(field)}`);
}

const oneFieldChanged = fc.property(message, mutation, (m, change) => {
  const wire = encodeMessage(m);
  const { path } = follow(wire, change.steps);
  const decoded = parsedOrRefused(protocolError, () => decodeMessage(mutated(wire, change)));
  if (decoded.ok) assertWellFormed(decoded.value);
  else assert.match(decoded.error.message, fieldWords(path[0]), `changed at ${path.join('.')}`);
});

const oneFrameFieldChanged = fc.property(frame, mutation, (f, change) => {
  const decoded = parsedOrRefused(protocolError, () => frameFromWire(mutated(frameToWire(f), change)));
  if (decoded.ok) assertWellFormedFrame(decoded.value);
});

/** A stream's header travels without its snapshot data (the chunks carry it). */
function expectedAfterWire(f: Frame): Frame {
  if (f.kind !== 'snapshot' || f.header?.snapshot == null) return f;
  return { ...f, header: { ...f.header, snapshot: { ...f.header.snapshot, data: new Uint8Array(0) } } };
}

const roundTrip = fc.property(fc.array(frame, { minLength: 1, maxLength: 4 }), (frames) => {
  const max = 1 << 20;
  const bytes = Buffer.concat(frames.map((f) => encodeFrame(frameToWire(f), max)));
  const decoded = new FrameDecoder(max).push(bytes).map(frameFromWire);
  assert.deepEqual(decoded, frames.map(expectedAfterWire));
});

export const messageProperties: readonly FuzzProperty[] = [
  fuzzProperty('arbitrary values: a well-formed frame or message, or protocol_error', 500, arbitraryValues),
  fuzzProperty('a message with one field changed or removed: still well-formed, or refused naming the field', 500, oneFieldChanged),
  fuzzProperty('a frame with one field changed or removed: well-formed or protocol_error', 400, oneFrameFieldChanged),
  fuzzProperty('every valid frame round-trips through framing and msgpack', 300, roundTrip),
];
