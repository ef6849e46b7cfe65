/**
 * Connections come back by themselves, without hammering: after a peer restarts on the same
 * address, messages flow again (over a new dial); while a peer is down, redials back off
 * exponentially (the dial count stays small while messages keep coming, and grows: the loop
 * retries); messages sent meanwhile are dropped and counted; a connection over which nothing
 * arrives any more (a TCP proxy in between stops forwarding, as a partition would) is closed
 * after silenceMsMax although TCP itself never notices; removing a peer closes the
 * connections in both directions, and stops the dialing.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { message } from '../../src/raft/index.js';
import { CuttingProxy, assertNoLeakedHandles, deliverOne, heartbeat, logged, sleep, startNode, unusedPort, waitFor, type TestNode } from './helpers.js';

const started: TestNode[] = [];
const proxies: CuttingProxy[] = [];

after(async () => {
  await Promise.all([...started.map((n) => n.transport.close()), ...proxies.map((p) => p.close())]);
  await assertNoLeakedHandles();
});

async function start(id: string, host: string, port = 0): Promise<TestNode> {
  const n = await startNode({ id, host, port, limits: { reconnectDelayMs: 20, reconnectDelayMsMax: 2000, pingIntervalMs: 50, silenceMsMax: 400 } });
  started.push(n);
  return n;
}

test('messages flow again after a peer restarts on the same address', async () => {
  const a = await start('re-a', '127.0.0.1');
  const b = await start('re-b', '127.0.0.2');
  a.transport.setPeers(new Map([['re-b', b.address]]));
  await deliverOne(a, b);
  const dialsBefore = a.transport.peerStatus().get('re-b')?.dials ?? 0;
  await b.transport.close();
  await waitFor(() => a.transport.peerStatus().get('re-b')?.connected === false, 'the connection loss to be noticed');
  a.transport.send([heartbeat('re-a', 're-b')]);
  assert.ok((a.transport.peerStatus().get('re-b')?.dropped.disconnected ?? 0) > 0, 'messages to a peer that is down are dropped and counted');
  const b2 = await start('re-b', '127.0.0.2', b.transport.port);
  await deliverOne(a, b2);
  assert.ok((a.transport.peerStatus().get('re-b')?.dials ?? 0) > dialsBefore, 'a new dial');
  assert.equal(a.transport.peerStatus().get('re-b')?.connected, true);
});

test('redials to a peer that is down back off instead of spinning', async () => {
  const a = await start('bo-a', '127.0.0.1');
  a.transport.setPeers(new Map([['bo-down', `127.0.0.2:${await unusedPort('127.0.0.2')}`]]));
  // Raft would send this often; the transport must not dial each time.
  for (let i = 0; i < 200; i++) {
    a.transport.send([heartbeat('bo-a', 'bo-down')]);
    await sleep(5);
  }
  const status = a.transport.peerStatus().get('bo-down');
  assert.ok(status !== undefined);
  // With delays of at least 10, 20, 40, 80, 160, 320 ... ms (half of 20 ms doubling, the
  // smallest jitter), at most 8 dials fit in the second or more this loop took.
  assert.ok(status.dials >= 2 && status.dials <= 8, `${status.dials} dials`);
  assert.equal(status.connected, false);
  assert.ok(status.dropped.disconnected > 100, `${status.dropped.disconnected} messages dropped`);
});

test('removing a peer closes the connections in both directions and stops dialing', async () => {
  const a = await start('rm-a', '127.0.0.1');
  const b = await start('rm-b', '127.0.0.2');
  a.transport.setPeers(new Map([['rm-b', b.address]]));
  b.transport.setPeers(new Map([['rm-a', a.address]]));
  await deliverOne(a, b);
  await deliverOne(b, a);
  assert.ok(a.transport.peerStatus().get('rm-b')?.inboundAddress?.startsWith('127.0.0.2:'));
  a.transport.setPeers(new Map());
  assert.equal(a.transport.peerStatus().size, 0);
  // b's outbound connection was a's inbound one: it is closed, and b notices.
  await waitFor(() => b.transport.peerStatus().get('rm-a')?.connected === false, "b to lose its connection to a");
  a.transport.send([message({ type: 'MsgHeartbeat', from: 'rm-a', to: 'rm-b', term: 1, context: 'after-removal' })]);
  assert.ok(a.transport.stats().droppedUnknownPeer > 0);
  await sleep(100);
  assert.ok(!b.received.some((m) => m.context === 'after-removal'), 'nothing is sent to a removed peer');
});

test('a connection that falls silent is closed, though TCP never notices', async () => {
  const a = await start('si-a', '127.0.0.1');
  const b = await start('si-b', '127.0.0.2');
  const { proxy, address } = await CuttingProxy.start('127.0.0.3', { host: '127.0.0.2', port: b.transport.port }, Infinity);
  proxies.push(proxy);
  a.transport.setPeers(new Map([['si-b', address]]));
  await deliverOne(a, b);
  // Idle connections stay up: pings keep both ends hearing from each other.
  await sleep(600);
  assert.equal(a.transport.peerStatus().get('si-b')?.connected, true);
  proxy.frozen = true;
  await waitFor(() => a.transport.peerStatus().get('si-b')?.connected === false, 'the silent connection to be closed');
  assert.ok(logged(a, '(silenceMsMax is 400 ms)'));
  proxy.frozen = false;
  await deliverOne(a, b);
});
