// Linearizable reads, Raft paper section 8 and Ongaro's thesis section 6.4. Checks, on the
// TestNetwork, that a ReadIndex request on the leader is answered (as a ReadState carrying the
// commit index at request time) only after a heartbeat round that a majority acknowledged; that a
// new leader holds reads until it has committed an entry of its own term, so it never answers
// with a commit index older than its predecessor's; that a stale, partitioned leader never answers;
// that a follower's read is forwarded to the leader and answered there; that lease reads
// (readMode 'lease') are answered at once while a quorum's heartbeat acknowledgements are fresh,
// but not by a leader cut off for longer than an election timeout nor by one that already sent
// TimeoutNow, and that a restarted node in lease mode refuses votes for an election timeout; and that
// testingBugs.readWithoutQuorum answers without the round (the switch works, even with stale data).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RaftError } from '../../../src/raft/index.js';
import { TestNetwork, customNetwork, ent, expectRaftError, message, since, tickUntilLeader } from './helpers.js';

const ids = ['n1', 'n2', 'n3'];

/** n1 is the leader of term 3; n2 and n3 know that 2..3 (term 2) are committed, n1 does not. */
function laggingCommitNetwork(config: Parameters<typeof customNetwork>[2] = {}): TestNetwork {
  const log = [ent(2, 2), ent(3, 2)];
  const net = customNetwork(
    ids,
    [
      { id: 'n1', term: 2, entries: log, commit: 1 },
      { id: 'n2', term: 2, entries: log, commit: 3 },
      { id: 'n3', term: 2, entries: log, commit: 3 },
    ],
    config,
  );
  net.dropTypes.add('MsgApp');
  net.elect('n1');
  assert.equal(net.raft('n1').basicStatus().term, 3);
  assert.equal(net.raft('n1').basicStatus().commit, 1);
  return net;
}

void describe('§8 / thesis §6.4 linearizable reads', () => {
  void test('ReadIndex is answered only after a majority acknowledged a heartbeat round', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    net.propose('n1', 'x');
    net.isolate('n1');
    net.raft('n1').readIndex('r1');
    net.settle();
    net.tick('n1', 10);
    assert.deepEqual(net.node('n1').readStates, [], 'no ReadState without acknowledgements');
    // Writes after the read do not change its index.
    net.propose('n1', 'y');

    net.heal();
    const mark = net.delivered.length;
    net.tick('n1', 10);
    assert.deepEqual(net.node('n1').readStates, [{ index: 3, context: 'r1' }]);
    const round = since(net.delivered, mark, (m) => (m.type === 'MsgHeartbeat' || m.type === 'MsgHeartbeatResp') && m.context === 'r1');
    assert.ok(round.some((m) => m.type === 'MsgHeartbeatResp'), 'the answer followed acknowledged heartbeats carrying the read');
  });

  void test('one acknowledging follower of two is a majority', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    net.propose('n1', 'x');
    net.cut('n1', 'n3');
    const mark = net.delivered.length;
    net.raft('n1').readIndex('r2');
    net.settle();
    assert.deepEqual(net.node('n1').readStates, [{ index: 3, context: 'r2' }]);
    assert.deepEqual(
      since(net.delivered, mark, () => true).map((m) => `${m.type} ${m.from}>${m.to} ${m.context}`),
      ['MsgHeartbeat n1>n2 r2', 'MsgHeartbeatResp n2>n1 r2'],
    );
  });

  void test('a new leader holds reads until it has committed an entry of its term', () => {
    const net = laggingCommitNetwork();
    net.raft('n1').readIndex('early');
    net.settle();
    net.tick('n1', 10);
    assert.deepEqual(net.node('n1').readStates, [], 'answering now could return commit index 1, older than 3');
    net.dropTypes.delete('MsgApp');
    net.tick('n1', 10);
    assert.equal(net.raft('n1').basicStatus().commit, 4);
    assert.deepEqual(net.node('n1').readStates, [{ index: 4, context: 'early' }]);
  });

  void test('a leader cut off from the majority never answers, even after a new leader took over', () => {
    const net = new TestNetwork(ids, { checkQuorum: false });
    net.elect('n1');
    net.propose('n1', 'x');
    net.isolate('n1');
    const leader = tickUntilLeader(net, ['n2', 'n3']);
    net.propose(leader, 'y');
    // n1 still believes it leads term 2.
    assert.equal(net.raft('n1').basicStatus().role, 'leader');
    net.raft('n1').readIndex('stale');
    net.settle();
    net.tick('n1', 20);
    assert.deepEqual(net.node('n1').readStates, []);
    net.heal();
    net.tickAll(30);
    assert.equal(net.raft('n1').basicStatus().leader, leader);
    assert.deepEqual(net.node('n1').readStates, [], 'the stale read was dropped, not answered');
  });

  void test('a follower\'s read is forwarded to the leader and answered on the follower', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    net.propose('n1', 'x');
    const mark = net.delivered.length;
    net.raft('n2').readIndex('f1');
    net.settle();
    assert.deepEqual(net.node('n2').readStates, [{ index: 3, context: 'f1' }]);
    assert.deepEqual(net.node('n1').readStates, []);
    const trace = since(net.delivered, mark, (m) => m.type === 'MsgReadIndex' || m.type === 'MsgReadIndexResp' || m.context === 'f1');
    const first = trace[0];
    assert.ok(first !== undefined);
    assert.deepEqual([first.type, first.from, first.to], ['MsgReadIndex', 'n2', 'n1']);
    const last = trace[trace.length - 1];
    assert.deepEqual([last?.type, last?.to, last?.index], ['MsgReadIndexResp', 'n2', 3]);
    assert.ok(
      trace.some((m) => m.type === 'MsgHeartbeatResp'),
      'the leader confirmed its leadership before answering',
    );
  });

  void test('a follower that knows no leader refuses a read with ReadUnavailable', () => {
    const net = new TestNetwork(ids);
    expectRaftError(() => {
      net.raft('n2').readIndex('nobody');
    }, 'ReadUnavailable');
  });

  void test('lease reads are answered at once while a quorum\'s acknowledgements are fresh', () => {
    // (Lease mode: every node must tick, since a node refuses votes for its first election timeout.)
    const net = new TestNetwork(ids, { readMode: 'lease' });
    const leader = tickUntilLeader(net, ids);
    net.propose(leader, 'x');
    net.tick(leader, 10);
    net.isolate(leader);
    const mark = net.delivered.length;
    net.raft(leader).readIndex('l1');
    net.settle();
    assert.deepEqual(net.node(leader).readStates, [{ index: 3, context: 'l1' }]);
    assert.equal(net.delivered.length, mark, 'no heartbeat round was needed');
  });

  void test('a lease read is not served by a leader cut off for two election timeouts', () => {
    const net = new TestNetwork(ids, { readMode: 'lease' });
    const leader = tickUntilLeader(net, ids);
    net.propose(leader, 'x');
    net.tick(leader, 10);
    net.isolate(leader);
    net.tick(leader, 60);
    let refused = false;
    try {
      net.raft(leader).readIndex('late');
    } catch (error) {
      assert.ok(error instanceof RaftError);
      refused = true;
    }
    net.settle();
    assert.ok(refused || net.node(leader).readStates.length === 0, 'an expired lease served a read');
    assert.deepEqual(net.node(leader).readStates, []);
  });

  void test('a leader that handed leadership over (TimeoutNow sent) serves no more lease reads', () => {
    const net = new TestNetwork(ids, { readMode: 'lease' });
    const leader = tickUntilLeader(net, ids);
    const [target, third] = ids.filter((id) => id !== leader);
    assert.ok(target !== undefined && third !== undefined);
    net.propose(leader, 'x');
    net.tick(leader, 10);
    const old = net.raft(leader);
    old.transferLeader(target);
    // Take the TimeoutNow out of the old leader by hand, then cut the old leader off, so that it
    // never hears of the new term while the target wins with the third node's vote.
    const rd = old.ready();
    old.advance();
    const timeoutNow = rd.messages.find((m) => m.type === 'MsgTimeoutNow');
    assert.ok(timeoutNow !== undefined);
    net.isolate(leader);
    net.raft(target).step(timeoutNow);
    net.settle();
    assert.equal(net.raft(target).basicStatus().role, 'leader');
    net.propose(target, 'y');
    assert.deepEqual(net.raft(third).basicStatus().commit, net.raft(target).basicStatus().lastIndex);
    // The old leader still believes it leads, and its followers acknowledged it moments ago;
    // answering from the lease now would miss "y".
    assert.equal(old.basicStatus().role, 'leader');
    old.readIndex('after-transfer');
    net.settle();
    assert.deepEqual(net.node(leader).readStates, []);
  });

  void test('in lease mode a restarted node refuses votes for its first election timeout', () => {
    // It may have acknowledged a leader's heartbeat just before it restarted.
    const net = new TestNetwork(ids, { readMode: 'lease' });
    const follower = net.raft('n2');
    follower.step(message({ type: 'MsgVote', from: 'n3', to: 'n2', term: 2, index: 1, logTerm: 1 }));
    assert.equal(follower.hasReady(), false, 'no answer at all');
    assert.equal(follower.basicStatus().term, 1);
    for (let i = 0; i < 30; i++) follower.tick();
    net.settle();
    follower.step(message({ type: 'MsgVote', from: 'n3', to: 'n2', term: 9, index: 1, logTerm: 1 }));
    assert.equal(follower.status().vote, 'n3');
  });

  void test('testingBugs.readWithoutQuorum answers without the round (the switch works)', () => {
    const net = new TestNetwork(ids, { testingBugs: { readWithoutQuorum: true } });
    net.elect('n1');
    net.propose('n1', 'x');
    net.isolate('n1');
    net.raft('n1').readIndex('b1');
    net.settle();
    assert.deepEqual(net.node('n1').readStates, [{ index: 3, context: 'b1' }]);

    // And a new leader answers with its lagging commit index: a stale read.
    const lagging = laggingCommitNetwork({ testingBugs: { readWithoutQuorum: true } });
    lagging.raft('n1').readIndex('b2');
    lagging.settle();
    assert.deepEqual(lagging.node('n1').readStates, [{ index: 1, context: 'b2' }]);
  });
});
