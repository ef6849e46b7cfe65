/**
 * The transport as the node driver uses it: three RaftNodes (the production driver, with
 * in-memory storage and the system clock) on 127.0.0.1-3 talk only through PeerTransport.
 * They elect one leader and replicate writes to every replica; then a fourth node joins as a
 * learner after the log was compacted, so the leader must send it a snapshot, which streams
 * over the transport (onSnapshotStatus reports it) and leaves the learner with the same state.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { RaftNode, bootstrapState, emptyState, systemClock, type LogStorage, type PersistedState } from '../../src/node/index.js';
import { RegisterMachine, encodeCommand, type RegisterResult } from '../../src/sim/register-machine.js';
import { Prng } from '../../src/util/prng.js';
import { PeerTransport } from '../../src/transport/index.js';
import { assertNoLeakedHandles, tlsFor, waitFor, clusterId } from './helpers.js';

interface Member {
  readonly id: string;
  readonly node: RaftNode<RegisterResult>;
  readonly machine: RegisterMachine;
  readonly transport: PeerTransport;
  readonly snapshotStatus: [string, boolean][];
}

const members: Member[] = [];

after(async () => {
  for (const m of members) m.node.stop();
  await Promise.all(members.map((m) => m.transport.close()));
  await assertNoLeakedHandles();
});

/** The driver's storage seam, kept in memory: durability is not what this test is about. */
function memoryStorage(initial: PersistedState): LogStorage {
  const done = (): Promise<void> => Promise.resolve();
  return { load: () => Promise.resolve(initial), save: done, saveSnapshot: done, compact: done };
}

async function startMember(id: string, host: string, initial: PersistedState, seed: number): Promise<Member> {
  const holder: { node: RaftNode<RegisterResult> | null } = { node: null };
  const snapshotStatus: [string, boolean][] = [];
  const transport = await PeerTransport.start({
    nodeId: id,
    clusterId,
    listenHost: host,
    listenPort: 0,
    advertiseHost: host,
    tls: await tlsFor(id),
    onMessage: (m) => holder.node?.receive(m),
    onSnapshotStatus: (to, ok) => snapshotStatus.push([to, ok]),
  });
  const machine = new RegisterMachine();
  const node = await RaftNode.start({
    id,
    storage: memoryStorage(initial),
    transport,
    clock: systemClock,
    stateMachine: machine,
    prng: new Prng(seed),
    raft: { snapshotEntries: 20, snapshotTrailingEntries: 5 },
  });
  holder.node = node;
  const member = { id, node, machine, transport, snapshotStatus };
  members.push(member);
  return member;
}

function wirePeers(): void {
  const peers = new Map(members.map((m) => [m.id, m.transport.advertiseAddress]));
  for (const m of members) m.transport.setPeers(peers);
}

function leader(): Member | undefined {
  const leaders = members.filter((m) => m.node.basicStatus().role === 'leader');
  return leaders.length === 1 ? leaders[0] : undefined;
}

/** Run `action` on the leader, retrying through a leader change (a slow machine may cause one). */
async function onLeader(action: (leader: Member) => Promise<unknown>): Promise<Member> {
  for (let attempt = 0; ; attempt++) {
    await waitFor(() => leader() !== undefined, 'one leader');
    const current = leader();
    assert.ok(current !== undefined);
    try {
      await action(current);
      return current;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
  }
}

test('three nodes elect a leader and replicate over the transport; a learner catches up by snapshot', async () => {
  const boot = bootstrapState(['n1', 'n2', 'n3'], new RegisterMachine().snapshot());
  await startMember('n1', '127.0.0.1', boot, 1);
  await startMember('n2', '127.0.0.2', boot, 2);
  await startMember('n3', '127.0.0.3', boot, 3);
  wirePeers();
  let first: Member | undefined;
  for (let i = 0; i < 60; i++) first = await onLeader((l) => l.node.propose(encodeCommand({ op: 'put', key: `k${i % 7}`, value: `v${i}` })));
  assert.ok(first !== undefined);
  const expected = first.machine.fingerprint();
  await waitFor(() => members.every((m) => m.machine.fingerprint() === expected), 'every replica to apply the writes');

  await startMember('n4', '127.0.0.1', emptyState, 4);
  wirePeers();
  await onLeader((l) => l.node.proposeConfChange({ type: 'addLearner', nodeId: 'n4' }));
  const learner = members.find((m) => m.id === 'n4');
  assert.ok(learner !== undefined);
  await waitFor(() => learner.machine.fingerprint() === expected, 'the learner to catch up');
  assert.ok(members.some((m) => m.snapshotStatus.some(([to, ok]) => to === 'n4' && ok)), 'the snapshot went to the learner by stream');
  await onLeader((l) => l.node.propose(encodeCommand({ op: 'put', key: 'after', value: 'join' })));
  await waitFor(() => members.every((m) => m.machine.get('after') === 'join'), 'a write after the join to reach all four');
});
