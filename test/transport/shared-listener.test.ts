/**
 * One listener for two clusters (the arbiter's): each cluster's nodes reach their own arbiter
 * node through it, with mutual TLS against their own CA; a node of the other cluster naming
 * this cluster is refused; a connection naming no served cluster goes to the enrollment side.
 */
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { after, test } from 'node:test';
import { createCa } from '../../src/cluster/certs.js';
import { SharedPeerListener, serverNameOf } from '../../src/transport/index.js';
import { assertNoLeakedHandles, deliverOne, heartbeat, sleep, startNode, tlsFor, waitFor, type TestNode } from './helpers.js';

const started: TestNode[] = [];
const listeners: SharedPeerListener[] = [];

after(async () => {
  await Promise.all(started.map((n) => n.transport.close()));
  await Promise.all(listeners.map((l) => l.close()));
  await assertNoLeakedHandles();
});

test('two clusters behind one address, each with its own CA; the other cluster and strangers are kept apart', async () => {
  const caA = 'shared-listener-cluster-a-secret';
  const caB = 'shared-listener-cluster-b-secret';
  const listenerLogs: string[] = [];
  const strangers: tls.TLSSocket[] = [];
  const listener = await SharedPeerListener.start({
    host: '127.0.0.9',
    port: 0,
    identity: await createCa('arbiter under test'),
    unrouted: (socket) => {
      strangers.push(socket);
      socket.end();
    },
    handshakeTimeoutMs: 2_000,
    log: (_level, message) => listenerLogs.push(message),
  });
  listeners.push(listener);
  const arbiterOf = async (caSecret: string, name: string): Promise<TestNode> => {
    const node = await startNode({ id: 'arbiter', host: '127.0.0.9', tls: await tlsFor('arbiter', { caSecret }), serverName: serverNameOf(name), sharedListener: listener });
    started.push(node);
    return node;
  };
  const memberOf = async (id: string, caSecret: string, name: string): Promise<TestNode> => {
    const node = await startNode({ id, host: '127.0.0.1', tls: await tlsFor(id, { caSecret }), serverName: serverNameOf(name) });
    started.push(node);
    return node;
  };
  const arbiterA = await arbiterOf(caA, 'aaaa');
  const arbiterB = await arbiterOf(caB, 'bbbb');
  assert.equal(arbiterA.address, listener.address);
  const a1 = await memberOf('a1', caA, 'aaaa');
  const b1 = await memberOf('b1', caB, 'bbbb');
  a1.transport.setPeers(new Map([['arbiter', listener.address]]));
  b1.transport.setPeers(new Map([['arbiter', listener.address]]));
  arbiterA.transport.setPeers(new Map([['a1', a1.address]]));
  arbiterB.transport.setPeers(new Map([['b1', b1.address]]));
  await deliverOne(a1, arbiterA);
  await deliverOne(b1, arbiterB);
  await deliverOne(arbiterA, a1);
  assert.ok(arbiterB.received.every((m) => m.from === 'b1'), 'each arbiter node hears its own cluster only');

  // A node of cluster B that names cluster A: it does not trust A's certificate, and one that
  // trusts A's CA but holds a certificate of B is refused by the listener (A's CA only).
  const rogue = await memberOf('rogue', caB, 'aaaa');
  const trusting = await startNode({ id: 'trusting', host: '127.0.0.2', tls: { ...(await tlsFor('trusting', { caSecret: caB })), caPem: (await tlsFor('x', { caSecret: caA })).caPem }, serverName: serverNameOf('aaaa') });
  started.push(trusting);
  for (const node of [rogue, trusting]) node.transport.setPeers(new Map([['arbiter', listener.address]]));
  await waitFor(() => {
    rogue.transport.send([heartbeat('rogue', 'arbiter')]);
    trusting.transport.send([heartbeat('trusting', 'arbiter')]);
    return rogue.logs.some((l) => l.msg.includes("not signed by this cluster's CA")) && listenerLogs.some((line) => line.includes(`refused a peer connection for ${serverNameOf('aaaa')}`));
  }, 'both kinds of rogue refused');
  await sleep(100);
  assert.ok(!arbiterA.received.some((m) => m.from === 'rogue' || m.from === 'trusting'), 'nothing from the other cluster reached arbiter A');

  // No cluster named: the enrollment side gets the connection, with the listener's own certificate.
  const stranger = tls.connect({ host: '127.0.0.9', port: listener.port, rejectUnauthorized: false });
  await new Promise<void>((resolve) => stranger.once('secureConnect', resolve));
  assert.match(String(stranger.getPeerCertificate().subject.CN), /arbiter under test/);
  await waitFor(() => strangers.length === 1, 'the stranger routed to the enrollment side');
  stranger.destroy();
});
