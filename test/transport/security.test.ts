/**
 * Who may connect, and what a connection may send, with real TLS on loopback: a node whose
 * certificate comes from another CA gets no connection in either direction; a hello naming
 * another node than the certificate's CN, or another cluster, is refused with a logged
 * reason; an address that turns out to host another node than the one dialed is refused; a
 * peer announcing a frame over frameBytesMax is disconnected with an error naming the limit
 * (and reconnects for normal traffic); a message over the sender's own frameBytesMax is
 * dropped and counted, and a request that large is refused with frame_too_large.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { isQuorateError } from '../../src/util/errors.js';
import { append, assertNoLeakedHandles, heartbeat, logged, startNode, tlsFor, waitFor, type NodeSpec, type TestNode } from './helpers.js';

const started: TestNode[] = [];

async function start(spec: NodeSpec): Promise<TestNode> {
  const n = await startNode(spec);
  started.push(n);
  return n;
}

after(async () => {
  await Promise.all(started.map((n) => n.transport.close()));
  await assertNoLeakedHandles();
});

function peersOf(...nodes: TestNode[]): Map<string, string> {
  return new Map(nodes.map((n) => [n.id, n.address]));
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (e) => isQuorateError(e, code));
}

test('a node with a certificate from another CA is refused in both directions', async () => {
  const good = await start({ id: 'ca-good', host: '127.0.0.1', onRequest: () => Promise.resolve('hi') });
  const rogue = await start({ id: 'ca-rogue', host: '127.0.0.2', tls: await tlsFor('ca-rogue', { caSecret: 'another-secret-entirely-0123' }), onRequest: () => Promise.resolve('hi') });
  rogue.transport.setPeers(peersOf(good));
  good.transport.setPeers(peersOf(rogue));
  await rejectsWith(rogue.transport.request('ca-good', 'ping', null, 3000), 'unreachable');
  await rejectsWith(good.transport.request('ca-rogue', 'ping', null, 3000), 'unreachable');
  rogue.transport.send([heartbeat('ca-rogue', 'ca-good')]);
  await waitFor(() => logged(good, 'refused a TLS connection'), 'the listener to log the refused handshake');
  assert.ok(logged(rogue, `cannot reach node "ca-good" at ${good.address}: socket error: self-signed certificate in certificate chain`));
  assert.equal(good.received.length, 0);
  assert.equal(good.transport.peerStatus().get('ca-rogue')?.connected, false);
});

test('a hello naming another node than the certificate is refused', async () => {
  const a = await start({ id: 'cn-a', host: '127.0.0.1' });
  // The impostor's certificate is valid (same CA) but was issued to "cn-x".
  const impostor = await start({ id: 'cn-b', host: '127.0.0.2', tls: await tlsFor('cn-b', { commonName: 'cn-x' }) });
  impostor.transport.setPeers(peersOf(a));
  impostor.transport.send([heartbeat('cn-b', 'cn-a')]);
  await waitFor(() => logged(a, 'the peer says it is node "cn-b" but its certificate was issued to "cn-x"'), 'the refusal to be logged');
  assert.equal(a.logs.find((l) => l.msg.includes('certificate was issued to'))?.level, 'error');
  assert.equal(a.received.length, 0);
});

test('a hello from another cluster is refused', async () => {
  const a = await start({ id: 'cl-a', host: '127.0.0.1' });
  const other = await start({ id: 'cl-b', host: '127.0.0.3', clusterId: 'other-cluster' });
  other.transport.setPeers(peersOf(a));
  other.transport.send([heartbeat('cl-b', 'cl-a')]);
  await waitFor(() => logged(a, 'the peer belongs to cluster "other-cluster", not "test-cluster"'), 'the refusal to be logged');
  assert.equal(a.received.length, 0);
});

test('an address that answers as another node than the one dialed is refused', async () => {
  const a = await start({ id: 'addr-a', host: '127.0.0.1' });
  const b = await start({ id: 'addr-b', host: '127.0.0.2' });
  b.transport.setPeers(new Map([['addr-c', a.address]]));
  await rejectsWith(b.transport.request('addr-c', 'ping', null, 3000), 'unreachable');
  assert.ok(logged(b, 'expected node "addr-c" at this address, found node "addr-a"'));
});

test('a peer announcing a frame over frameBytesMax is disconnected with the limit named', async () => {
  const small = await start({ id: 'fr-small', host: '127.0.0.1', limits: { frameBytesMax: 128 * 1024, snapshotChunkBytes: 64 * 1024 } });
  const big = await start({ id: 'fr-big', host: '127.0.0.2' });
  big.transport.setPeers(peersOf(small));
  big.transport.send([append('fr-big', 'fr-small', [{ type: 'normal', index: 11, term: 3, data: new Uint8Array(200 * 1024) }])]);
  await waitFor(() => logged(small, 'more than frameBytesMax (131072 bytes)'), 'the oversize frame to be refused');
  const line = small.logs.find((l) => l.msg.includes('frameBytesMax'));
  assert.equal(line?.level, 'error');
  assert.match(line.msg, /node "fr-big".*announced a frame of \d+ bytes/);
  assert.equal(small.received.length, 0);
  // Normal traffic resumes on a new connection.
  await waitFor(() => {
    big.transport.send([heartbeat('fr-big', 'fr-small')]);
    return small.received.length > 0;
  }, 'a heartbeat after reconnecting');
});

test('a message over the sender\'s frameBytesMax is dropped and counted; such a request is refused', async () => {
  const limits = { frameBytesMax: 128 * 1024, snapshotChunkBytes: 64 * 1024 };
  const a = await start({ id: 'out-a', host: '127.0.0.1', limits, onRequest: () => Promise.resolve('ok') });
  const b = await start({ id: 'out-b', host: '127.0.0.2', limits, onRequest: () => Promise.resolve('ok') });
  b.transport.setPeers(peersOf(a));
  assert.equal(await b.transport.request('out-a', 'ping', null, 3000), 'ok');
  b.transport.send([append('out-b', 'out-a', [{ type: 'normal', index: 11, term: 3, data: new Uint8Array(200 * 1024) }]), heartbeat('out-b', 'out-a')]);
  await waitFor(() => a.received.length === 1, 'the heartbeat that fits');
  assert.equal(a.received[0]?.type, 'MsgHeartbeat');
  assert.equal(b.transport.peerStatus().get('out-a')?.dropped.tooLarge, 1);
  assert.ok(logged(b, 'exceeds frameBytesMax (131072 bytes)'));
  await rejectsWith(b.transport.request('out-a', 'put', new Uint8Array(200 * 1024), 3000), 'frame_too_large');
});
