// Leadership transfer, Ongaro's thesis section 3.10. Checks that transferring to an up-to-date
// voter makes it leader of a higher term at once, without anyone waiting for an election timeout;
// that proposals are refused with ProposalDropped while a transfer is under way; that a target
// that is behind is first brought up to date, and MsgTimeoutNow is sent only after its match index
// equals the leader's last index; that a target that cannot catch up never gets MsgTimeoutNow and
// the transfer is abandoned after an election timeout; and that transfers to learners, to
// non-members, or from a follower are refused (TransferInvalid, NotLeader). Scenarios run on the
// TestNetwork, whose delivered-message log shows the order of events.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  TestNetwork,
  appliedTexts,
  bytes,
  expectRaftError,
  logShape,
  since,
} from './helpers.js';

const ids = ['n1', 'n2', 'n3'];

void describe('thesis §3.10 leadership transfer', () => {
  void test('transfer to an up-to-date voter makes it leader of a higher term without a timeout', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    net.propose('n1', 'x');
    const mark = net.delivered.length;
    net.raft('n1').transferLeader('n2');
    net.settle();
    for (const id of ids) {
      const st = net.raft(id).basicStatus();
      assert.deepEqual([st.term, st.leader], [3, 'n2'], id);
    }
    assert.equal(net.raft('n2').basicStatus().role, 'leader');
    assert.equal(net.raft('n1').basicStatus().role, 'follower');
    const trace = since(net.delivered, mark, () => true);
    assert.equal(trace[0]?.type, 'MsgTimeoutNow', 'an up-to-date target is told at once');
    assert.deepEqual(
      trace.filter((m) => m.type === 'MsgPreVote'),
      [],
      'the target skips the pre-vote',
    );
    // The new leader works: its no-op and a new entry commit everywhere.
    net.propose('n2', 'y');
    for (const id of ids) assert.deepEqual(appliedTexts(net, id), ['x', 'y'], id);
  });

  void test('proposals are refused with ProposalDropped during a transfer', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    net.cut('n1', 'n2');
    const raft = net.raft('n1');
    raft.transferLeader('n2');
    assert.equal(raft.status().leadTransferee, 'n2');
    const last = raft.basicStatus().lastIndex;
    const error = expectRaftError(() => raft.propose([bytes('x')]), 'ProposalDropped');
    assert.equal(error.leader, 'n2', 'the error points at the coming leader');
    expectRaftError(() => raft.proposeConfChange({ type: 'remove', nodeId: 'n3' }), 'ProposalDropped');
    assert.equal(raft.basicStatus().lastIndex, last);
    // Asking again for the same target is fine; another target is not.
    raft.transferLeader('n2');
    expectRaftError(() => {
      raft.transferLeader('n3');
    }, 'TransferInProgress');
  });

  void test('a target that is behind is caught up first; TimeoutNow follows its match reaching the last index', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    net.cut('n1', 'n2');
    for (let i = 0; i < 5; i++) net.propose('n1', `p${i}`);
    const lastIndex = net.raft('n1').basicStatus().lastIndex;
    assert.equal(lastIndex, 7);
    assert.equal(net.raft('n2').basicStatus().lastIndex, 2, 'n2 is behind');
    net.heal();

    const mark = net.delivered.length;
    net.raft('n1').transferLeader('n2');
    net.settle();
    const trace = since(net.delivered, mark, () => true);
    const timeoutAt = trace.findIndex((m) => m.type === 'MsgTimeoutNow');
    const caughtUpAt = trace.findIndex((m) => m.type === 'MsgAppResp' && m.from === 'n2' && !m.reject && m.index === lastIndex);
    assert.ok(caughtUpAt >= 0, 'n2 acknowledged the leader\'s last index');
    assert.ok(timeoutAt > caughtUpAt, `TimeoutNow (at ${timeoutAt}) must follow the catch-up (at ${caughtUpAt})`);
    assert.equal(trace.filter((m) => m.type === 'MsgTimeoutNow').length, 1);
    assert.deepEqual([trace[timeoutAt]?.from, trace[timeoutAt]?.to], ['n1', 'n2']);
    const appendsBefore = trace.slice(0, timeoutAt).filter((m) => m.type === 'MsgApp' && m.to === 'n2');
    assert.ok(appendsBefore.some((m) => m.entries.some((e) => e.index === lastIndex)), 'the missing entries were sent first');

    assert.equal(net.raft('n2').basicStatus().role, 'leader');
    assert.equal(net.raft('n2').basicStatus().term, 3);
    assert.deepEqual(logShape(net.raft('n2')).slice(0, 6), logShape(net.raft('n1')).slice(0, 6));
  });

  void test('a target that cannot catch up never gets TimeoutNow; the transfer is abandoned after an election timeout', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    net.cut('n1', 'n2');
    for (let i = 0; i < 3; i++) net.propose('n1', `p${i}`);
    net.heal();
    // n2 is reachable (heartbeats flow) but no append or snapshot gets through.
    net.dropTypes.add('MsgApp');
    net.dropTypes.add('MsgSnap');
    const raft = net.raft('n1');
    const mark = net.delivered.length;
    raft.transferLeader('n2');
    net.settle();
    net.tickAll(29);
    assert.equal(raft.status().leadTransferee, 'n2', 'still trying within the election timeout');
    expectRaftError(() => raft.propose([bytes('x')]), 'ProposalDropped');
    net.tickAll(1);
    assert.equal(raft.status().leadTransferee, null, 'abandoned after an election timeout');
    assert.deepEqual(since(net.delivered, mark, (m) => m.type === 'MsgTimeoutNow'), []);
    assert.deepEqual([raft.basicStatus().role, raft.basicStatus().term], ['leader', 2]);
    // Back to normal: proposals are accepted and, once appends flow again, committed by all.
    net.dropTypes.clear();
    net.propose('n1', 'after');
    net.tickAll(20);
    for (const id of ids) assert.deepEqual(appliedTexts(net, id), ['p0', 'p1', 'p2', 'after'], id);
  });

  void test('transfers to a learner or a non-member, or from a follower, are refused', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    net.addEmpty('n4');
    net.raft('n1').proposeConfChange({ type: 'addLearner', nodeId: 'n4' });
    net.settle();
    assert.deepEqual(net.raft('n1').status().conf.learners, ['n4']);
    const error = expectRaftError(() => {
      net.raft('n1').transferLeader('n4');
    }, 'TransferInvalid');
    assert.match(error.message, /n4/);
    expectRaftError(() => {
      net.raft('n1').transferLeader('n9');
    }, 'TransferInvalid');
    assert.equal(net.raft('n1').status().leadTransferee, null);
    net.propose('n1', 'still-leader');
    const notLeader = expectRaftError(() => {
      net.raft('n2').transferLeader('n3');
    }, 'NotLeader');
    assert.equal(notLeader.leader, 'n1');
  });
});
