/**
 * Raft messages between three real transports over mutual TLS on 127.0.0.1, 127.0.0.2 and
 * 127.0.0.3, all listening on the same port as the seeds' 10.0.0.1-3 do: every message
 * arrives intact at the node it was for; each listener sees its peers' connections come from
 * their advertised addresses (outbound sockets bind to them); everything sent to one peer in
 * one tick travels as one frame (the sender's frame counter moves by one); entries whose
 * `data` is a prototype getter, as the WAL recovers them, keep their data on the wire; and
 * messages to unknown peers are counted, not thrown.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { message, type NormalEntry } from '../../src/raft/index.js';
import { append, assertNoLeakedHandles, connectAll, heartbeat, startNode, waitFor, type TestNode } from './helpers.js';

let nodes: TestNode[] = [];

/** Start n1 on a free port, then n2 and n3 on the same port (retrying if it is taken there). */
async function startOnOnePort(): Promise<TestNode[]> {
  for (let attempt = 0; ; attempt++) {
    const first = await startNode({ id: 'n1', host: '127.0.0.1' });
    const port = first.transport.port;
    try {
      const second = await startNode({ id: 'n2', host: '127.0.0.2', port });
      try {
        return [first, second, await startNode({ id: 'n3', host: '127.0.0.3', port })];
      } catch (error) {
        await second.transport.close();
        throw error;
      }
    } catch (error) {
      await first.transport.close();
      if (attempt >= 5) throw error;
    }
  }
}

before(async () => {
  nodes = await startOnOnePort();
  connectAll(nodes);
});

after(async () => {
  await Promise.all(nodes.map((n) => n.transport.close()));
  await assertNoLeakedHandles();
});

function node(id: string): TestNode {
  const found = nodes.find((n) => n.id === id);
  assert.ok(found !== undefined);
  return found;
}

/** A normal entry whose data, like the WAL's RecoveredEntry, lives behind a prototype getter. */
class GetterEntry implements NormalEntry {
  readonly type = 'normal';
  constructor(
    readonly index: number,
    readonly term: number,
    private readonly bytes: Uint8Array,
  ) {}
  get data(): Uint8Array {
    return this.bytes.subarray(1);
  }
}

test('three nodes on one port exchange raft messages; listeners see the advertised addresses', async () => {
  assert.equal(new Set(nodes.map((n) => n.address.split(':')[1])).size, 1, 'all three listen on one port');
  for (const from of nodes) for (const to of nodes) if (from !== to) from.transport.send([heartbeat(from.id, to.id)]);
  await waitFor(() => nodes.every((n) => n.received.length >= 2), 'every node to receive from both others');
  for (const n of nodes) {
    const senders = n.received.map((m) => m.from).sort();
    assert.deepEqual(senders, nodes.filter((o) => o !== n).map((o) => o.id));
    for (const m of n.received) assert.deepEqual(m, heartbeat(m.from, n.id));
  }
  for (const n of nodes) {
    for (const [peerId, status] of n.transport.peerStatus()) {
      assert.equal(status.connected, true);
      assert.ok(status.inboundAddress?.startsWith(`${node(peerId).host}:`), `${n.id} sees ${peerId} at ${String(status.inboundAddress)}`);
      assert.ok(status.lastReceivedMs !== null && status.lastReceivedMs < 10_000);
    }
  }
});

test('messages sent to one peer in one tick go out as one frame', async () => {
  const [a, b] = [node('n1'), node('n2')];
  const before = a.transport.peerStatus().get('n2');
  assert.ok(before?.connected);
  const start = b.received.length;
  for (let i = 0; i < 100; i++) a.transport.send([message({ type: 'MsgHeartbeat', from: 'n1', to: 'n2', term: 1, commit: i })]);
  await waitFor(() => b.received.length === start + 100, 'all 100 messages');
  const afterStatus = a.transport.peerStatus().get('n2');
  assert.equal(afterStatus?.framesSent, before.framesSent + 1, 'one frame for the whole tick');
  assert.equal(afterStatus.messagesSent, before.messagesSent + 100);
  assert.deepEqual(b.received.slice(start).map((m) => m.commit), Array.from({ length: 100 }, (_, i) => i), 'in order');
});

test('entries keep their data when it is a prototype getter, and conf entries survive', async () => {
  const [a, c] = [node('n1'), node('n3')];
  const start = c.received.length;
  const raw = Uint8Array.of(0xff, 1, 2, 3);
  a.transport.send([
    append('n1', 'n3', [new GetterEntry(11, 3, raw), { type: 'conf', index: 12, term: 3, change: { type: 'addLearner', nodeId: 'n4' } }, { type: 'normal', index: 13, term: 3, data: new Uint8Array(0) }]),
  ]);
  await waitFor(() => c.received.length > start, 'the MsgApp');
  const got = c.received[start];
  assert.ok(got !== undefined);
  assert.deepEqual(got.entries, [
    { type: 'normal', index: 11, term: 3, data: Uint8Array.of(1, 2, 3) },
    { type: 'conf', index: 12, term: 3, change: { type: 'addLearner', nodeId: 'n4' } },
    { type: 'normal', index: 13, term: 3, data: new Uint8Array(0) },
  ]);
  assert.deepEqual({ ...got, entries: [] }, { ...append('n1', 'n3', []) });
});

test('messages to unknown peers are counted and dropped, never thrown', () => {
  const a = node('n1');
  const before = a.transport.stats().droppedUnknownPeer;
  a.transport.send([heartbeat('n1', 'nobody'), heartbeat('n1', 'nobody-else')]);
  assert.equal(a.transport.stats().droppedUnknownPeer, before + 2);
});
