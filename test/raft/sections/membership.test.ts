// Cluster membership changes, Raft paper section 6 as refined by Ongaro's thesis section 4.1:
// one server at a time, with new servers joining as non-voting learners first. Checks that a
// learner receives and applies the log but neither counts toward commitment nor campaigns (and
// its vote does not count); that a promoted learner does count; that a removed follower stops
// receiving messages and a removed leader steps down, leaving the rest to elect a new leader;
// that a second change while one is pending, or before the leader committed an entry of its
// term, is refused with ConfChangePending; and that invalid changes are refused with
// ConfChangeInvalid. Scenarios run on the TestNetwork (addEmpty creates the blank new node).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfChange } from '../../../src/raft/index.js';
import {
  TestNetwork,
  appliedTexts,
  drain,
  expectRaftError,
  logTexts,
  message,
  newRaft,
  since,
  tickUntil,
  tickUntilLeader,
} from './helpers.js';

const ids = ['n1', 'n2', 'n3'];

function change(net: TestNetwork, leader: string, c: ConfChange): number {
  const { index } = net.raft(leader).proposeConfChange(c);
  net.settle();
  return index;
}

/** n1 leads n1..n3, and the blank node n4 has joined as a learner and caught up. */
function withLearner(): TestNetwork {
  const net = new TestNetwork(ids);
  net.elect('n1');
  net.addEmpty('n4');
  change(net, 'n1', { type: 'addLearner', nodeId: 'n4' });
  assert.deepEqual(net.raft('n1').status().conf, { voters: ids, learners: ['n4'] });
  assert.deepEqual(net.raft('n4').status().conf, { voters: ids, learners: ['n4'] });
  return net;
}

void describe('§6 / thesis §4.1 membership changes', () => {
  void test('a learner receives and applies the log', () => {
    const net = withLearner();
    net.propose('n1', 'x');
    net.propose('n1', 'y');
    assert.deepEqual(appliedTexts(net, 'n4'), ['conf:addLearner:n4', 'x', 'y']);
    assert.deepEqual(appliedTexts(net, 'n4'), appliedTexts(net, 'n2'));
    assert.equal(net.raft('n4').basicStatus().commit, net.raft('n1').basicStatus().commit);
  });

  void test('a learner does not count toward commitment', () => {
    const net = withLearner();
    // The leader can reach only the learner: n1 + n4 is two of four nodes but one of three voters.
    net.cut('n1', 'n2');
    net.cut('n1', 'n3');
    const index = net.propose('n1', 'x');
    assert.deepEqual(logTexts(net.raft('n4')).slice(-1), ['x'], 'the learner holds the entry');
    assert.equal(net.raft('n1').status().progress.get('n4')?.match, index);
    assert.ok(net.raft('n1').basicStatus().commit < index, 'committed with one voter of three');
    assert.deepEqual(appliedTexts(net, 'n4'), ['conf:addLearner:n4']);
    net.heal();
    net.tick('n1', 10);
    assert.equal(net.raft('n1').basicStatus().commit, index);
    assert.deepEqual(appliedTexts(net, 'n4'), ['conf:addLearner:n4', 'x']);
  });

  void test('a learner never campaigns, even when it stops hearing from the leader', () => {
    const net = withLearner();
    const mark = net.delivered.length;
    net.isolate('n1');
    net.tick('n4', 500);
    const st = net.raft('n4').basicStatus();
    assert.deepEqual([st.role, st.term], ['follower', 2]);
    assert.deepEqual(
      since(net.delivered, mark, (m) => m.from === 'n4'),
      [],
    );
    // Once the voters elect a new leader, the learner follows it.
    const leader = tickUntilLeader(net, ['n2', 'n3']);
    net.tickAll(10);
    assert.equal(net.raft('n4').basicStatus().leader, leader);
    assert.ok(net.delivered.every((m) => m.from !== 'n4' || (m.type !== 'MsgPreVote' && m.type !== 'MsgVote')));
  });

  void test('a learner\'s vote does not count in an election', () => {
    const raft = newRaft({ id: 'n1', voters: ids, learners: ['n4'] });
    const { messages } = tickUntil(raft, ['MsgPreVote']);
    assert.deepEqual(messages.map((m) => m.to).sort(), ['n2', 'n3'], 'learners are not asked');
    raft.step(message({ type: 'MsgPreVoteResp', from: 'n4', to: 'n1', term: 2 }));
    drain(raft);
    assert.equal(raft.basicStatus().role, 'preCandidate');
    raft.step(message({ type: 'MsgPreVoteResp', from: 'n2', to: 'n1', term: 2 }));
    drain(raft);
    assert.equal(raft.basicStatus().role, 'candidate');
    raft.step(message({ type: 'MsgVoteResp', from: 'n4', to: 'n1', term: 2 }));
    drain(raft);
    assert.equal(raft.basicStatus().role, 'candidate');
    raft.step(message({ type: 'MsgVoteResp', from: 'n3', to: 'n1', term: 2 }));
    drain(raft);
    assert.equal(raft.basicStatus().role, 'leader');
  });

  void test('a promoted learner becomes a voter and counts toward commitment', () => {
    // Two voters and a learner: without n2 nothing commits, whatever n3 holds.
    const net = new TestNetwork(['n1', 'n2']);
    net.elect('n1');
    net.addEmpty('n3');
    change(net, 'n1', { type: 'addLearner', nodeId: 'n3' });
    net.cut('n1', 'n2');
    const before = net.propose('n1', 'before');
    assert.ok(net.raft('n1').basicStatus().commit < before);
    net.heal();
    net.tick('n1', 10);
    assert.equal(net.raft('n1').basicStatus().commit, before);

    change(net, 'n1', { type: 'promote', nodeId: 'n3' });
    for (const id of ['n1', 'n2', 'n3']) {
      assert.deepEqual(net.raft(id).status().conf, { voters: ['n1', 'n2', 'n3'], learners: [] }, id);
    }
    // Now n1 + n3 are two of three voters.
    net.cut('n1', 'n2');
    const after = net.propose('n1', 'after');
    assert.equal(net.raft('n1').basicStatus().commit, after);
    assert.deepEqual(appliedTexts(net, 'n3'), ['conf:addLearner:n3', 'before', 'conf:promote:n3', 'after']);
  });

  void test('a removed follower stops receiving messages; the others carry on without it', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    change(net, 'n1', { type: 'remove', nodeId: 'n3' });
    for (const id of ids) assert.deepEqual(net.raft(id).status().conf, { voters: ['n1', 'n2'], learners: [] }, id);
    const mark = net.delivered.length;
    net.propose('n1', 'after');
    net.tickAll(100);
    assert.deepEqual(
      since(net.delivered, mark, (m) => m.to === 'n3' || m.from === 'n3').map((m) => `${m.type} ${m.from}>${m.to}`),
      [],
    );
    assert.equal(net.raft('n1').basicStatus().role, 'leader');
    assert.deepEqual(appliedTexts(net, 'n2'), ['conf:remove:n3', 'after']);
    assert.deepEqual(appliedTexts(net, 'n3'), ['conf:remove:n3']);
    // With two voters, n1 and n2 are both needed.
    net.cut('n1', 'n2');
    const index = net.propose('n1', 'alone');
    assert.ok(net.raft('n1').basicStatus().commit < index);
  });

  void test('removing the leader makes it step down; the remaining voters elect a new leader', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    change(net, 'n1', { type: 'remove', nodeId: 'n1' });
    const mark = net.delivered.length;
    const old = net.raft('n1').basicStatus();
    assert.equal(old.role, 'follower');
    for (const id of ['n2', 'n3']) {
      assert.deepEqual(net.raft(id).status().conf, { voters: ['n2', 'n3'], learners: [] }, `${id} applied the removal`);
    }
    const leader = tickUntilLeader(net, ['n2', 'n3']);
    net.propose(leader, 'next');
    net.tickAll(100);
    assert.notEqual(net.raft('n1').basicStatus().role, 'leader');
    assert.deepEqual(
      since(net.delivered, mark, (m) => m.from === 'n1' && (m.type === 'MsgPreVote' || m.type === 'MsgVote')),
      [],
      'the removed node never campaigns',
    );
    const other = leader === 'n2' ? 'n3' : 'n2';
    assert.deepEqual(appliedTexts(net, other), ['conf:remove:n1', 'next']);
  });

  void test('a second change while one is pending is refused with ConfChangePending', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    net.addEmpty('n4');
    net.addEmpty('n5');
    const raft = net.raft('n1');
    raft.proposeConfChange({ type: 'addLearner', nodeId: 'n4' });
    const last = raft.basicStatus().lastIndex;
    expectRaftError(() => raft.proposeConfChange({ type: 'addLearner', nodeId: 'n5' }), 'ConfChangePending');
    assert.equal(raft.basicStatus().lastIndex, last, 'the refused change was not appended');
    // Committed but not yet applied is still pending.
    net.cut('n1', 'n2');
    net.cut('n1', 'n3');
    net.settle();
    expectRaftError(() => raft.proposeConfChange({ type: 'addLearner', nodeId: 'n5' }), 'ConfChangePending');
    net.heal();
    net.tick('n1', 10);
    assert.deepEqual(raft.status().conf.learners, ['n4']);
    change(net, 'n1', { type: 'addLearner', nodeId: 'n5' });
    assert.deepEqual(raft.status().conf.learners, ['n4', 'n5']);
  });

  void test('a new leader refuses changes until it has committed an entry of its term', () => {
    const net = new TestNetwork(ids);
    net.dropTypes.add('MsgApp');
    net.elect('n1');
    net.addEmpty('n4');
    expectRaftError(() => net.raft('n1').proposeConfChange({ type: 'addLearner', nodeId: 'n4' }), 'ConfChangePending');
    net.dropTypes.delete('MsgApp');
    net.tick('n1', 10);
    assert.equal(net.raft('n1').basicStatus().commit, 2);
    change(net, 'n1', { type: 'addLearner', nodeId: 'n4' });
    assert.deepEqual(net.raft('n1').status().conf.learners, ['n4']);
  });

  void test('invalid changes are refused with ConfChangeInvalid and append nothing', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    net.addEmpty('n4');
    change(net, 'n1', { type: 'addLearner', nodeId: 'n4' });
    const raft = net.raft('n1');
    const cases: { c: ConfChange; why: RegExp }[] = [
      { c: { type: 'promote', nodeId: 'n2' }, why: /n2/ },
      { c: { type: 'promote', nodeId: 'n9' }, why: /n9/ },
      { c: { type: 'addLearner', nodeId: 'n2' }, why: /n2/ },
      { c: { type: 'addLearner', nodeId: 'n4' }, why: /n4/ },
      { c: { type: 'remove', nodeId: 'n9' }, why: /n9/ },
    ];
    for (const { c, why } of cases) {
      const last = raft.basicStatus().lastIndex;
      const error = expectRaftError(() => raft.proposeConfChange(c), 'ConfChangeInvalid');
      assert.match(error.message, why, `${c.type} ${c.nodeId}`);
      assert.equal(raft.basicStatus().lastIndex, last, `${c.type} ${c.nodeId} appended nothing`);
    }

    const single = new TestNetwork(['n1']);
    single.elect('n1');
    const error = expectRaftError(() => single.raft('n1').proposeConfChange({ type: 'remove', nodeId: 'n1' }), 'ConfChangeInvalid');
    assert.match(error.message, /last voter/);
  });
});
