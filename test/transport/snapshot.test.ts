/**
 * Snapshot streaming over real TLS: a 20 MB MsgSnap travels as 1 MiB chunk frames, a
 * heartbeat sent right after it overtakes the rest of the stream (the stream waits for the
 * socket to drain, and raft batches go first), the receiver delivers one MsgSnap with the data
 * intact, and the sender reports onSnapshotStatus true. A connection cut mid-stream (by a TCP
 * proxy between the nodes) reports false and delivers nothing partial, and the next attempt
 * succeeds; a snapshot over the receiver's snapshotBytesMax is refused with the limit named.
 * The receiver reports how many bytes of an unfinished stream it holds (a joining node's
 * progress), and nothing once the snapshot is whole.
 * "true" means the last chunk was written to the socket, not that the receiver installed it:
 * Raft learns that from the follower's next response.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { message, type Message } from '../../src/raft/index.js';
import type { SnapshotChunkFrame } from '../../src/transport/protocol.js';
import { SnapshotAssembler } from '../../src/transport/snapshot-stream.js';
import { CuttingProxy, assertNoLeakedHandles, deliverOne, heartbeat, logged, startNode, waitFor, type NodeSpec, type TestNode } from './helpers.js';

const started: TestNode[] = [];
const proxies: CuttingProxy[] = [];

after(async () => {
  await Promise.all([...started.map((n) => n.transport.close()), ...proxies.map((p) => p.close())]);
  await assertNoLeakedHandles();
});

async function start(spec: NodeSpec): Promise<TestNode> {
  const n = await startNode(spec);
  started.push(n);
  return n;
}

function snapshotMessage(from: string, to: string, data: Uint8Array): Message {
  return message({ type: 'MsgSnap', from, to, term: 4, snapshot: { meta: { index: 1000, term: 3, conf: { voters: [from, to], learners: ['l1'] } }, data } });
}


test('a 20 MB snapshot streams in chunks, lets a heartbeat through, and arrives intact', async () => {
  const a = await start({ id: 'sn-a', host: '127.0.0.1' });
  const b = await start({ id: 'sn-b', host: '127.0.0.2' });
  a.transport.setPeers(new Map([['sn-b', b.address]]));
  await deliverOne(a, b);
  const framesBefore = a.transport.peerStatus().get('sn-b')?.framesSent ?? 0;
  const data = randomBytes(20 * 1024 * 1024);
  const snap = snapshotMessage('sn-a', 'sn-b', data);
  a.transport.send([snap]);
  a.transport.send([heartbeat('sn-a', 'sn-b', 4)]);
  await waitFor(() => a.snapshotStatus.length === 1 && b.received.some((m) => m.type === 'MsgSnap'), 'the snapshot and its status', 30_000);
  assert.deepEqual(a.snapshotStatus, [true]);
  const got = b.received.filter((m) => m.type === 'MsgSnap');
  assert.equal(got.length, 1);
  assert.ok(got[0]?.snapshot !== null && got[0]?.snapshot !== undefined);
  assert.ok(Buffer.from(got[0].snapshot.data).equals(data), 'data intact');
  assert.deepEqual({ ...got[0], snapshot: { ...got[0].snapshot, data: null } }, { ...snap, snapshot: { ...snap.snapshot, data: null } });
  const frames = (a.transport.peerStatus().get('sn-b')?.framesSent ?? 0) - framesBefore;
  assert.ok(frames >= 21, `${frames} frames: 20 chunks and the heartbeat`);
  const order = b.received.map((m) => `${m.type}/${m.term}`);
  assert.ok(order.indexOf('MsgHeartbeat/4') < order.indexOf('MsgSnap/4'), `the heartbeat overtook the stream: ${order.join(' ')}`);
  assert.equal(b.transport.snapshotProgress(), null, 'nothing is on its way once the snapshot is whole');
});

test('the receiver reports the bytes of an unfinished stream, and nothing between streams', () => {
  const assembler = new SnapshotAssembler(1024);
  const snap = snapshotMessage('p-a', 'p-b', new Uint8Array(10));
  const chunk = (seq: number, from: number, to: number): SnapshotChunkFrame => ({ kind: 'snapshot', stream: 1, seq, totalBytes: 10, last: to === 10, header: seq === 0 ? snap : null, data: new Uint8Array(to - from) });
  assert.equal(assembler.progress(), null);
  assert.equal(assembler.push(chunk(0, 0, 4)), null);
  assert.deepEqual(assembler.progress(), { receivedBytes: 4, totalBytes: 10 });
  assert.equal(assembler.push(chunk(1, 4, 8)), null);
  assert.deepEqual(assembler.progress(), { receivedBytes: 8, totalBytes: 10 });
  assert.notEqual(assembler.push(chunk(2, 8, 10)), null);
  assert.equal(assembler.progress(), null);
});

test('a stream cut mid-way reports false, delivers nothing, and the next attempt succeeds', async () => {
  const a = await start({ id: 'cut-a', host: '127.0.0.1' });
  const b = await start({ id: 'cut-b', host: '127.0.0.2' });
  const { proxy, address } = await CuttingProxy.start('127.0.0.3', { host: '127.0.0.2', port: b.transport.port }, 5 * 1024 * 1024);
  proxies.push(proxy);
  a.transport.setPeers(new Map([['cut-b', address]]));
  await deliverOne(a, b);
  const data = randomBytes(20 * 1024 * 1024);
  a.transport.send([snapshotMessage('cut-a', 'cut-b', data)]);
  await waitFor(() => a.snapshotStatus.length === 1, 'the broken stream to be reported', 30_000, [a, b]);
  assert.ok(proxy.cut);
  assert.deepEqual(a.snapshotStatus, [false]);
  assert.ok(logged(a, 'snapshot stream 1 to node "cut-b" broke'));
  assert.equal(b.received.filter((m) => m.type === 'MsgSnap').length, 0);
  await deliverOne(a, b);
  a.transport.send([snapshotMessage('cut-a', 'cut-b', data)]);
  await waitFor(() => a.snapshotStatus.length === 2 && b.received.some((m) => m.type === 'MsgSnap'), `the second attempt (status ${a.snapshotStatus.join()})`, 30_000, [a, b]);
  assert.deepEqual(a.snapshotStatus, [false, true]);
  assert.ok(Buffer.from(b.received.find((m) => m.type === 'MsgSnap')?.snapshot?.data ?? []).equals(data));
});

test("a snapshot over the receiver's snapshotBytesMax is refused with the limit named", async () => {
  const a = await start({ id: 'big-a', host: '127.0.0.1' });
  const b = await start({ id: 'big-b', host: '127.0.0.2', limits: { snapshotBytesMax: 1024 * 1024 } });
  a.transport.setPeers(new Map([['big-b', b.address]]));
  await deliverOne(a, b);
  // Far more than the sockets buffer, so the refusal lands before the last chunk is written.
  a.transport.send([snapshotMessage('big-a', 'big-b', new Uint8Array(32 * 1024 * 1024))]);
  await waitFor(() => a.snapshotStatus.length === 1, 'the refused stream to be reported');
  assert.deepEqual(a.snapshotStatus, [false]);
  assert.ok(logged(b, 'the peer offered a snapshot of 33554432 bytes, more than this node accepts (1048576 bytes'));
  assert.equal(b.received.filter((m) => m.type === 'MsgSnap').length, 0);
});
