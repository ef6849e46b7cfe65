/**
 * The wire format without sockets: frames are `[u32 big-endian length][plain msgpack]` and
 * reassemble however the bytes are split; a frame announcing more than frameBytesMax is
 * refused from its header alone, and so is encoding one; every field of a raft message (a
 * snapshot's included) survives encoding, entries whose `data` is a prototype getter keep it,
 * and malformed messages are protocol errors rather than garbage reaching the core.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode } from '@msgpack/msgpack';
import { message, type Message, type NormalEntry } from '../../src/raft/index.js';
import { isQuorateError } from '../../src/util/errors.js';
import { FrameDecoder, encodeFrame, encodeFrameWithTail } from '../../src/transport/frame-codec.js';
import { decodeMessage, encodeMessage } from '../../src/transport/message-codec.js';
import { frameFromWire, frameToWire, snapshotChunkHead } from '../../src/transport/protocol.js';

function roundTrip(m: Message): Message {
  const decoder = new FrameDecoder(1 << 20);
  const [value] = decoder.push(encodeFrame(frameToWire({ kind: 'raft', messages: [m] }), 1 << 20));
  const frame = frameFromWire(value);
  assert.equal(frame.kind, 'raft');
  const [decoded] = frame.messages;
  assert.ok(decoded !== undefined);
  return decoded;
}

test('a frame is a big-endian length and plain msgpack that any decoder reads', () => {
  const frame = encodeFrame({ kind: 'ping' }, 1024);
  assert.equal(frame.readUInt32BE(0), frame.length - 4);
  assert.deepEqual(decode(frame.subarray(4)), { kind: 'ping' });
});

test('frames reassemble from any split of the byte stream', () => {
  const values = Array.from({ length: 20 }, (_, i) => ({ i, pad: 'x'.repeat(i * 37) }));
  const bytes = Buffer.concat(values.map((v) => encodeFrame(v, 1 << 16)));
  for (const step of [1, 3, 7, 64, bytes.length]) {
    const decoder = new FrameDecoder(1 << 16);
    const out: unknown[] = [];
    for (let at = 0; at < bytes.length; at += step) out.push(...decoder.push(bytes.subarray(at, at + step)));
    assert.deepEqual(out, values, `split every ${step} bytes`);
  }
});

test('an oversize frame is refused from its header, and cannot be encoded', () => {
  const decoder = new FrameDecoder(100);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(101, 0);
  assert.throws(() => decoder.push(header), (e) => isQuorateError(e, 'frame_too_large') && e.message.includes('frameBytesMax (100 bytes)'));
  assert.throws(() => encodeFrame({ data: new Uint8Array(200) }, 100), (e) => isQuorateError(e, 'frame_too_large'));
});

test('garbage in a frame is a protocol error', () => {
  const decoder = new FrameDecoder(100);
  const frame = Buffer.from([0, 0, 0, 2, 0x92, 0x01]); // a 2-element array with one element
  assert.throws(() => decoder.push(frame), (e) => isQuorateError(e, 'protocol_error'));
});

test('every message field survives, snapshots included', () => {
  const m = message({
    type: 'MsgSnap',
    from: 'a',
    to: 'b',
    term: 2 ** 40,
    logTerm: 3,
    index: 4,
    commit: 5,
    reject: true,
    rejectHint: 6,
    context: 'read-7',
    entries: [{ type: 'conf', index: 9, term: 2, change: { type: 'remove', nodeId: 'c' } }],
    snapshot: { meta: { index: 8, term: 2, conf: { voters: ['a', 'b'], learners: ['c'] } }, data: Uint8Array.of(9, 8, 7) },
  });
  const decoded = roundTrip(m);
  assert.deepEqual(decoded, m);
  assert.equal(Object.getPrototypeOf(decoded.snapshot?.data), Uint8Array.prototype, 'plain Uint8Array, not Buffer');
});

test('an entry whose data is a prototype getter keeps its data', () => {
  class Recovered implements NormalEntry {
    readonly type = 'normal';
    readonly index = 1;
    readonly term = 1;
    get data(): Uint8Array {
      return Uint8Array.of(42, 43);
    }
  }
  const m = message({ type: 'MsgApp', from: 'a', to: 'b', term: 1, entries: [new Recovered()] });
  assert.deepEqual(roundTrip(m).entries, [{ type: 'normal', index: 1, term: 1, data: Uint8Array.of(42, 43) }]);
});

test('malformed messages are protocol errors naming the field', () => {
  const good = encodeMessage(message({ type: 'MsgHeartbeat', from: 'a', to: 'b', term: 1 }));
  const cases: [Record<string, unknown>, string][] = [
    [{ ...good, type: 'MsgBogus' }, 'unknown raft message type'],
    [{ ...good, term: -1 }, 'message term'],
    [{ ...good, term: 1.5 }, 'message term'],
    [{ ...good, from: 7 }, 'message from'],
    [{ ...good, entries: [[1, 1, 'explode', 'x']] }, 'change type'],
    [{ ...good, entries: [[1, 1, 'not bytes']] }, 'entry data'],
    [{ ...good, snapshot: { index: 1 } }, 'snapshot term'],
  ];
  for (const [value, text] of cases) {
    assert.throws(() => decodeMessage(value), (e) => isQuorateError(e, 'protocol_error') && e.message.includes(text), text);
  }
});

test('a frame with its last field given apart is plain msgpack of the same value, and it is checked against frameBytesMax', () => {
  const header = message({ type: 'MsgSnap', from: 'a', to: 'b', term: 3, snapshot: { meta: { index: 9, term: 2, conf: { voters: ['a', 'b'], learners: [] } }, data: new Uint8Array(0) } });
  for (const bytes of [0, 1, 255, 256, 70_000]) {
    const data = Uint8Array.from({ length: bytes }, (_, i) => i % 251);
    const chunk = { kind: 'snapshot', stream: 4, seq: 0, totalBytes: bytes, last: true, header, data } as const;
    const parts = encodeFrameWithTail(snapshotChunkHead(chunk), 'data', data, 1 << 20);
    assert.equal(parts[1], data, 'the data is not copied');
    const whole = Buffer.concat(parts);
    assert.equal(whole.readUInt32BE(0), whole.length - 4);
    assert.deepEqual(decode(whole.subarray(4)), decode(encodeFrame(frameToWire(chunk), 1 << 20).subarray(4)), `${bytes} bytes of data`);
    const [value] = new FrameDecoder(1 << 20).push(whole);
    assert.deepEqual(frameFromWire(value), chunk);
  }
  assert.throws(() => encodeFrameWithTail({ kind: 'snapshot' }, 'data', new Uint8Array(200), 100), (e) => isQuorateError(e, 'frame_too_large'));
});
