// PreVote (Ongaro's thesis section 9.6), CheckQuorum and the leader lease at followers (thesis
// sections 6.2 and 4.2.3). Checks that a partitioned follower neither raises its own term while cut
// off (it only sends pre-votes) nor, on rejoining, raises the leader's term or deposes it; that a
// follower cut off from the leader alone cannot disrupt the cluster through the other follower;
// that a leader unable to hear from a quorum steps down within an election timeout or two, and one
// that hears from a quorum never does; and that a follower that heard from its leader within the
// election timeout ignores vote requests (except a leadership transfer's). Scenarios run on the
// TestNetwork; the lease and pre-vote details step hand-made messages into a single core.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Message } from '../../../src/raft/index.js';
import { TestNetwork, appliedTexts, bytes, drain, expectRaftError, message, newRaft, since } from './helpers.js';

const ids = ['n1', 'n2', 'n3'];

void describe('thesis §9.6 PreVote', () => {
  void test('a partitioned follower does not raise its own term: it only sends pre-votes', () => {
    const raft = newRaft({ id: 'n3', voters: ids, term: 2 });
    raft.step(message({ type: 'MsgHeartbeat', from: 'n1', to: 'n3', term: 2 }));
    drain(raft);
    const sent: Message[] = [];
    for (let i = 0; i < 500; i++) {
      raft.tick();
      sent.push(...drain(raft).messages);
    }
    const preVotes = sent.filter((m) => m.type === 'MsgPreVote');
    assert.ok(preVotes.length >= 8, `only ${preVotes.length} pre-votes in 500 ticks`);
    assert.ok(preVotes.every((m) => m.term === 3), 'pre-votes ask about term 3 without moving there');
    assert.equal(sent.filter((m) => m.type === 'MsgVote').length, 0);
    assert.equal(raft.basicStatus().term, 2);
    assert.equal(raft.status().vote, null);
  });

  void test('without PreVote the same partitioned follower inflates its term (the switch works)', () => {
    const raft = newRaft({ id: 'n3', voters: ids, term: 2, config: { preVote: false } });
    for (let i = 0; i < 500; i++) {
      raft.tick();
      drain(raft);
    }
    assert.ok(raft.basicStatus().term >= 10, `term ${raft.basicStatus().term}`);
  });

  void test('a rejoining follower neither raises the leader\'s term nor deposes it', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    net.isolate('n3');
    for (let i = 0; i < 300; i++) {
      net.tickAll();
      assert.equal(net.raft('n3').basicStatus().term, 2, `tick ${i}: the isolated follower's term moved`);
    }
    assert.equal(net.raft('n1').basicStatus().role, 'leader');
    net.heal();
    const mark = net.delivered.length;
    net.tickAll(100);
    for (const id of ids) {
      const st = net.raft(id).basicStatus();
      assert.deepEqual([st.term, st.leader], [2, 'n1'], id);
    }
    assert.deepEqual(
      since(net.delivered, mark, (m) => m.type === 'MsgVote'),
      [],
      'no real election took place',
    );
    net.propose('n1', 'after');
    assert.deepEqual(appliedTexts(net, 'n3'), ['after']);
  });

  void test('a follower cut off from the leader alone cannot disrupt it through the other follower', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    net.cut('n1', 'n3');
    const mark = net.delivered.length;
    net.tickAll(300);
    assert.deepEqual([net.raft('n1').basicStatus().role, net.raft('n1').basicStatus().term], ['leader', 2]);
    assert.deepEqual([net.raft('n2').basicStatus().leader, net.raft('n2').basicStatus().term], ['n1', 2]);
    const asked = since(net.delivered, mark, (m) => m.from === 'n3' && m.type === 'MsgPreVote');
    assert.ok(asked.length > 0, 'n3 did try');
    assert.deepEqual(
      since(net.delivered, mark, (m) => m.from === 'n2' && m.to === 'n3' && m.type === 'MsgPreVoteResp' && !m.reject),
      [],
      'n2 hears from its leader and grants nothing',
    );
  });
});

void describe('thesis §6.2 CheckQuorum and the leader lease', () => {
  void test('a leader that cannot hear from a quorum steps down after an election timeout', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    net.isolate('n1');
    net.tick('n1', 29);
    assert.equal(net.raft('n1').basicStatus().role, 'leader', 'not before an election timeout');
    let ticks = 29;
    while (net.raft('n1').basicStatus().role === 'leader' && ticks < 200) {
      net.tick('n1');
      ticks++;
    }
    assert.ok(ticks >= 30 && ticks <= 60, `stepped down after ${ticks} ticks`);
    assert.deepEqual([net.raft('n1').basicStatus().role, net.raft('n1').basicStatus().leader], ['follower', null]);
    assert.equal(net.raft('n1').basicStatus().term, 2, 'stepping down does not change the term');
    expectRaftError(() => net.raft('n1').propose([bytes('x')]), 'NotLeader');
  });

  void test('a leader that hears from a quorum never steps down', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    net.cut('n1', 'n3');
    net.tickAll(600);
    assert.deepEqual([net.raft('n1').basicStatus().role, net.raft('n1').basicStatus().term], ['leader', 2]);
  });

  void test('without CheckQuorum an isolated leader stays leader (the switch works)', () => {
    const net = new TestNetwork(ids, { checkQuorum: false });
    net.elect('n1');
    net.isolate('n1');
    net.tick('n1', 600);
    assert.equal(net.raft('n1').basicStatus().role, 'leader');
  });

  void test('a follower that heard from its leader within the election timeout ignores vote requests', () => {
    const follower = newRaft({ id: 'n2', voters: ids, term: 2 });
    follower.step(message({ type: 'MsgHeartbeat', from: 'n1', to: 'n2', term: 2 }));
    drain(follower);
    // The lease lasts electionTicks - 1 ticks: it ends a tick early so that a peer whose
    // unaligned ticks fire slightly sooner is not ignored (see inLease in raft.ts).
    for (let i = 0; i < 28; i++) {
      follower.tick();
      drain(follower);
    }
    for (const type of ['MsgVote', 'MsgPreVote'] as const) {
      follower.step(message({ type, from: 'n3', to: 'n2', term: 3, index: 1, logTerm: 1 }));
      assert.deepEqual(drain(follower).messages, [], `${type} is ignored, not even rejected`);
    }
    assert.deepEqual([follower.basicStatus().term, follower.status().vote, follower.basicStatus().leader], [2, null, 'n1']);

    // A leadership transfer's vote request is not disruptive: it is considered despite the lease.
    follower.step(message({ type: 'MsgVote', from: 'n3', to: 'n2', term: 3, index: 1, logTerm: 1, context: 'transfer' }));
    assert.deepEqual(
      drain(follower).messages.map((m) => [m.type, m.term, m.reject]),
      [['MsgVoteResp', 3, false]],
    );
    assert.deepEqual([follower.basicStatus().term, follower.status().vote], [3, 'n3']);
  });

  void test('once the lease (electionTicks - 1 ticks) passes without the leader, the follower votes again', () => {
    const follower = newRaft({ id: 'n2', voters: ids, term: 2 });
    follower.step(message({ type: 'MsgHeartbeat', from: 'n1', to: 'n2', term: 2 }));
    drain(follower);
    for (let i = 0; i < 29; i++) {
      follower.tick();
      drain(follower);
    }
    follower.step(message({ type: 'MsgVote', from: 'n3', to: 'n2', term: 3, index: 1, logTerm: 1 }));
    assert.deepEqual(
      drain(follower).messages.map((m) => [m.type, m.term, m.reject]),
      [['MsgVoteResp', 3, false]],
    );
  });
});
