// Log replication, Raft paper section 5.3. Checks that a proposal commits once a majority holds
// it and is applied by every node in the same order; that a follower's conflicting uncommitted
// entries from an old leader are overwritten by the new leader's; that the leader skips a whole
// conflicting term per rejection (counted MsgApp rejects); that followers refuse proposals with
// NotLeader naming the leader; that proposals between two Readies are batched into one MsgApp per
// follower; and the flow control of etcd-style Progress: at most inflightMessagesMax unacknowledged
// appends in replicate state, one append per heartbeat in probe state, and no permanent stall
// after acknowledgements were lost. Scenarios run on the TestNetwork (some from hand-made logs);
// the probe-state case steps hand-made messages into a single leader.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Message, Raft } from '../../../src/raft/index.js';
import {
  TestNetwork,
  appliedTexts,
  bytes,
  campaignDirect,
  customNetwork,
  drain,
  ent,
  entsWithTerms,
  expectRaftError,
  logShape,
  logTexts,
  message,
  newRaft,
  since,
  tickUntilLeader,
} from './helpers.js';

const ids = ['n1', 'n2', 'n3'];

function appsWithEntries(list: readonly Message[], mark: number, to: string): Message[] {
  return since(list, mark, (m) => m.type === 'MsgApp' && m.to === to && m.entries.length > 0);
}

void describe('§5.3 log replication', () => {
  void test('a proposal commits on a majority and every node applies the same entries in order', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    net.cut('n1', 'n3');
    const a = net.propose('n1', 'a');
    const b = net.propose('n1', 'b');
    assert.deepEqual([a, b], [3, 4]);
    // n1 and n2 are a majority of three: committed and applied without n3.
    assert.equal(net.raft('n1').basicStatus().commit, 4);
    assert.deepEqual(appliedTexts(net, 'n1'), ['a', 'b']);
    assert.deepEqual(appliedTexts(net, 'n3'), []);
    net.cut('n1', 'n2');
    net.propose('n1', 'c');
    // No majority: c is in n1's log but not committed.
    assert.equal(net.raft('n1').basicStatus().lastIndex, 5);
    assert.equal(net.raft('n1').basicStatus().commit, 4);
    assert.deepEqual(appliedTexts(net, 'n1'), ['a', 'b']);
    net.heal();
    net.tick('n1', 10);
    for (const id of ids) {
      assert.deepEqual(appliedTexts(net, id), ['a', 'b', 'c'], id);
      assert.deepEqual(
        net.node(id).applied.map((e) => e.index),
        [2, 3, 4, 5],
        `${id} applies every index once, in order`,
      );
      assert.equal(net.raft(id).basicStatus().commit, 5);
    }
  });

  void test('conflicting uncommitted entries of an old leader are overwritten by the new leader', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    net.propose('n1', 'base');
    net.isolate('n1');
    net.propose('n1', 'lost-a');
    net.propose('n1', 'lost-b');
    assert.deepEqual(logTexts(net.raft('n1')), ['', 'base', 'lost-a', 'lost-b']);
    assert.equal(net.raft('n1').basicStatus().commit, 3);

    const leader = tickUntilLeader(net, ['n2', 'n3']);
    net.propose(leader, 'new-c');
    net.propose(leader, 'new-d');
    const newTerm = net.raft(leader).basicStatus().term;
    assert.ok(newTerm >= 3);

    net.heal();
    net.tickAll(20);
    assert.equal(net.raft(leader).basicStatus().role, 'leader');
    const expected = logShape(net.raft(leader));
    for (const id of ids) {
      assert.deepEqual(logShape(net.raft(id)), expected, `${id}'s log matches the leader's`);
      assert.deepEqual(logTexts(net.raft(id)).filter((t) => t !== ''), ['base', 'new-c', 'new-d'], id);
      assert.deepEqual(appliedTexts(net, id), ['base', 'new-c', 'new-d'], `${id} never applied lost entries`);
    }
  });

  void test('the leader backs off past a whole conflicting term in one round trip', () => {
    // n1 holds ten uncommitted entries of term 2 (indexes 3..12); n2 and n3 hold ten of term 3.
    const stale = entsWithTerms(2, Array<number>(11).fill(2));
    const current = [ent(2, 2), ...entsWithTerms(3, Array<number>(10).fill(3))];
    const net = customNetwork(ids, [
      { id: 'n1', term: 2, entries: stale },
      { id: 'n2', term: 3, entries: current, commit: 12 },
      { id: 'n3', term: 3, entries: current, commit: 12 },
    ]);
    net.elect('n2');
    net.tick('n2', 10);
    const rejects = net.delivered.filter((m) => m.type === 'MsgAppResp' && m.reject);
    // One index per round trip would take ten rejections; the term hint needs one or two.
    assert.ok(rejects.length >= 1 && rejects.length <= 2, `${rejects.length} rejections`);
    assert.ok(rejects.every((m) => m.from === 'n1'));
    const expected = logShape(net.raft('n2'));
    assert.equal(expected.length, 12);
    assert.deepEqual(logShape(net.raft('n1')), expected);
    assert.equal(net.raft('n1').basicStatus().commit, 13);
  });

  void test('a follower refuses proposals with NotLeader naming the leader', () => {
    const net = new TestNetwork(ids);
    const before = expectRaftError(() => net.raft('n2').propose([bytes('x')]), 'NotLeader');
    assert.equal(before.leader, null, 'no leader known yet');
    net.elect('n1');
    for (const id of ['n2', 'n3']) {
      const error = expectRaftError(() => net.raft(id).propose([bytes('x')]), 'NotLeader');
      assert.equal(error.leader, 'n1');
      assert.match(error.message, /n1/);
    }
    assert.equal(net.raft('n2').basicStatus().lastIndex, 2, 'nothing was appended');
  });

  void test('proposals made between two Readies go out in one MsgApp per follower', () => {
    const net = new TestNetwork(ids);
    net.elect('n1');
    const mark = net.delivered.length;
    for (let i = 0; i < 10; i++) net.raft('n1').propose([bytes(`p${i}`)]);
    net.settle();
    for (const to of ['n2', 'n3']) {
      const apps = appsWithEntries(net.delivered, mark, to);
      assert.equal(apps.length, 1, `${to} got ${apps.length} appends with entries`);
      assert.deepEqual(
        apps[0]?.entries.map((e) => e.index),
        [3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
      );
    }
    assert.equal(net.raft('n1').basicStatus().commit, 12);
  });

  void test('flow control: at most inflightMessagesMax unacknowledged appends until a heartbeat response frees a slot', () => {
    const net = new TestNetwork(ids, { inflightMessagesMax: 2 });
    net.elect('n1');
    assert.equal(net.raft('n1').status().progress.get('n2')?.state, 'replicate');
    net.dropTypes.add('MsgAppResp');
    const mark = net.delivered.length;
    for (let i = 0; i < 5; i++) net.propose('n1', `p${i}`);
    const outstanding = appsWithEntries(net.delivered, mark, 'n2');
    assert.deepEqual(
      outstanding.map((m) => m.entries.map((e) => e.index)),
      [[3], [4]],
    );
    // Heartbeat responses are not lost: the first one frees one slot for one more append,
    // which carries everything not yet sent.
    net.tick('n1', 10);
    assert.deepEqual(
      appsWithEntries(net.delivered, mark, 'n2').map((m) => m.entries.map((e) => e.index)),
      [[3], [4], [5, 6, 7]],
    );
  });

  void test('flow control: lost acknowledgements do not stall replication forever (single-entry appends)', () => {
    const net = new TestNetwork(ids, { inflightMessagesMax: 2 });
    net.elect('n1');
    net.dropTypes.add('MsgAppResp');
    for (let i = 0; i < 5; i++) net.propose('n1', `p${i}`);
    // Two heartbeat intervals with every append acknowledgement lost.
    net.tick('n1', 20);
    net.heal();
    // The network is healthy again: a few heartbeat intervals later everything is committed.
    net.tickAll(50);
    const leader = net.raft('n1').basicStatus();
    assert.equal(leader.role, 'leader');
    assert.equal(leader.lastIndex, 7);
    assert.equal(leader.commit, 7, `commit is stuck at ${leader.commit}: the pipeline to the followers never resumed`);
    for (const id of ids) assert.deepEqual(appliedTexts(net, id), ['p0', 'p1', 'p2', 'p3', 'p4'], id);
  });

  void test('flow control: lost acknowledgements do not stall replication forever (batched appends)', () => {
    const net = new TestNetwork(ids, { inflightMessagesMax: 2 });
    net.elect('n1');
    net.dropTypes.add('MsgAppResp');
    const raft = net.raft('n1');
    for (let i = 0; i < 2; i++) {
      raft.propose([bytes(`a${i}`), bytes(`b${i}`)]);
      net.settle();
    }
    net.heal();
    const mark = net.delivered.length;
    net.tickAll(50);
    // After a heartbeat response the leader must send the follower something it can acknowledge.
    assert.ok(
      since(net.delivered, mark, (m) => m.type === 'MsgApp' && m.to === 'n2').length > 0,
      'no append reached n2 in 50 ticks of a healthy network',
    );
    assert.equal(raft.basicStatus().commit, 6, `commit is stuck at ${raft.basicStatus().commit}`);
  });

  void test('probe state: after a rejection, one append per heartbeat interval', () => {
    // The leader n1 holds 2..5 of term 2; n3 only 2..3, so it rejects the first append.
    const leader: Raft = newRaft({ id: 'n1', voters: ids, term: 2, entries: entsWithTerms(2, [2, 2, 2, 2]) });
    const first = campaignDirect(leader, ['n2']);
    assert.equal(leader.basicStatus().term, 3);
    const toN3 = first.find((m) => m.type === 'MsgApp' && m.to === 'n3');
    assert.ok(toN3 !== undefined);
    assert.deepEqual([toN3.index, toN3.logTerm], [5, 2]);
    // n2 is in sync (replicate state); n3 answers as a follower holding 2..3 would.
    leader.step(message({ type: 'MsgAppResp', from: 'n2', to: 'n1', term: 3, index: 6 }));
    leader.step(message({ type: 'MsgAppResp', from: 'n3', to: 'n1', term: 3, index: 5, reject: true, rejectHint: 3, logTerm: 2 }));
    const retry = drain(leader).messages.filter((m) => m.type === 'MsgApp' && m.to === 'n3');
    assert.deepEqual(
      retry.map((m) => [m.index, m.logTerm, m.entries.map((e) => e.index).join(',')]),
      [[3, 2, '4,5,6']],
    );
    assert.equal(leader.status().progress.get('n3')?.state, 'probe');

    // While that probe is unanswered, new proposals go to n2 but not to n3.
    const sent: Message[] = [];
    for (let i = 0; i < 3; i++) {
      leader.propose([bytes(`x${i}`)]);
      sent.push(...drain(leader).messages);
    }
    assert.equal(sent.filter((m) => m.type === 'MsgApp' && m.to === 'n2').length, 3);
    assert.equal(sent.filter((m) => m.to === 'n3').length, 0);

    // The heartbeat interval passes: a heartbeat, still no append.
    for (let i = 0; i < 10; i++) {
      leader.tick();
      sent.push(...drain(leader).messages);
    }
    assert.deepEqual(
      sent.filter((m) => m.to === 'n3').map((m) => m.type),
      ['MsgHeartbeat'],
    );
    // Its response releases exactly one more probe.
    leader.step(message({ type: 'MsgHeartbeatResp', from: 'n3', to: 'n1', term: 3 }));
    const released = drain(leader).messages.filter((m) => m.to === 'n3');
    assert.deepEqual(
      released.map((m) => [m.type, m.index, m.entries.length]),
      [['MsgApp', 3, 6]],
    );
    // Once n3 acknowledges, it is back in replicate state and the leader commits 2..9 with n2.
    leader.step(message({ type: 'MsgAppResp', from: 'n3', to: 'n1', term: 3, index: 9 }));
    drain(leader);
    assert.equal(leader.status().progress.get('n3')?.state, 'replicate');
    assert.equal(leader.status().progress.get('n3')?.match, 9);
  });
});
