// Leader election, Raft paper section 5.2 (and the election restriction of section 5.4.1).
// Checks that a lone voter elects itself; that in a three-node cluster the node whose timer fires
// first wins and the others follow it in the same term; that a node grants at most one vote per
// term and never to a candidate whose log is less up-to-date; that election timeouts are drawn
// from [electionTicks, 2 * electionTicks); that a split vote is retried until it resolves; and
// that no node's term ever goes backwards while partitions come and go. Precise cases step
// hand-made MsgVote/MsgPreVote messages into a single core; scenarios use the TestNetwork.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Prng } from '../../../src/util/prng.js';
import {
  TestNetwork,
  campaignDirect,
  drain,
  ent,
  leaderOf,
  message,
  newRaft,
  tickUntil,
  tickUntilLeader,
} from './helpers.js';

const ids = ['n1', 'n2', 'n3'];

void describe('§5.2 leader election', () => {
  void test('a single-voter cluster elects itself after one election timeout and commits its no-op', () => {
    const net = new TestNetwork(['n1']);
    const raft = net.raft('n1');
    let ticks = 0;
    while (raft.basicStatus().role !== 'leader' && ticks < 200) {
      net.tick('n1');
      ticks++;
    }
    assert.ok(ticks >= 30 && ticks < 60, `became leader after ${ticks} ticks, expected [30, 60)`);
    assert.deepEqual(raft.basicStatus(), { role: 'leader', leader: 'n1', term: 2, commit: 2, applied: 2, lastIndex: 2 });
    assert.equal(raft.status().vote, 'n1');
  });

  void test('in three nodes the node whose timer fires first wins; the others follow in the same term', () => {
    for (let seed = 1; seed <= 12; seed++) {
      // The widest spread, so no two timers of these seeds fire in the same tick (ties are the
      // PreVote tie-break's, tested below).
      const net = new TestNetwork(ids, { electionJitter: 1 }, seed * 7);
      const leader = tickUntilLeader(net, ids);
      const firstRequest = net.delivered.find((m) => m.type === 'MsgPreVote');
      assert.ok(firstRequest !== undefined);
      assert.equal(leader, firstRequest.from, `seed ${seed}: the first node to time out should win`);
      net.settle();
      for (const id of ids) {
        const st = net.raft(id).basicStatus();
        assert.equal(st.term, 2, `seed ${seed}: ${id} is at term ${st.term}`);
        assert.equal(st.leader, leader, `seed ${seed}: ${id} follows ${String(st.leader)}`);
        assert.equal(st.role, id === leader ? 'leader' : 'follower');
      }
      // Exactly one election happened: one round of real votes, all from the winner.
      const voteRequests = net.delivered.filter((m) => m.type === 'MsgVote');
      assert.deepEqual([...new Set(voteRequests.map((m) => m.from))], [leader]);
    }
  });

  void test('a node grants at most one vote per term (first come, first served)', () => {
    const raft = newRaft({ id: 'n1', voters: ids });
    raft.step(message({ type: 'MsgVote', from: 'n2', to: 'n1', term: 2, index: 1, logTerm: 1 }));
    const first = raft.ready();
    // The vote is durable (hard state, fsync) in the same Ready that sends the grant.
    assert.deepEqual(first.hardState, { term: 2, vote: 'n2', commit: 1 });
    assert.equal(first.mustSync, true);
    assert.deepEqual(
      first.messages.map((m) => [m.type, m.to, m.term, m.reject]),
      [['MsgVoteResp', 'n2', 2, false]],
    );
    raft.advance();

    raft.step(message({ type: 'MsgVote', from: 'n3', to: 'n1', term: 2, index: 1, logTerm: 1 }));
    assert.deepEqual(
      drain(raft).messages.map((m) => [m.type, m.to, m.term, m.reject]),
      [['MsgVoteResp', 'n3', 2, true]],
    );
    assert.equal(raft.status().vote, 'n2');

    // A retransmitted request from the candidate we voted for is granted again (idempotent).
    raft.step(message({ type: 'MsgVote', from: 'n2', to: 'n1', term: 2, index: 1, logTerm: 1 }));
    assert.deepEqual(
      drain(raft).messages.map((m) => [m.type, m.to, m.reject]),
      [['MsgVoteResp', 'n2', false]],
    );
  });

  void test('testingBugs.voteTwice makes the node grant the second vote (the switch works)', () => {
    const raft = newRaft({ id: 'n1', voters: ids, config: { testingBugs: { voteTwice: true } } });
    raft.step(message({ type: 'MsgVote', from: 'n2', to: 'n1', term: 2, index: 1, logTerm: 1 }));
    raft.step(message({ type: 'MsgVote', from: 'n3', to: 'n1', term: 2, index: 1, logTerm: 1 }));
    assert.deepEqual(
      drain(raft).messages.map((m) => [m.to, m.reject]),
      [
        ['n2', false],
        ['n3', false],
      ],
    );
  });

  void test('§5.4.1 election restriction: no vote for a candidate whose log is less up-to-date', () => {
    // The voter's log ends at index 3, term 2.
    const voterLog = { id: 'n1', voters: ids, term: 2, entries: [ent(2, 2), ent(3, 2)] };
    const cases: { name: string; index: number; logTerm: number; granted: boolean }[] = [
      { name: 'longer log but older last term', index: 9, logTerm: 1, granted: false },
      { name: 'same last term, shorter log', index: 2, logTerm: 2, granted: false },
      { name: 'same last term, same length', index: 3, logTerm: 2, granted: true },
      { name: 'same last term, longer log', index: 4, logTerm: 2, granted: true },
      { name: 'newer last term, shorter log', index: 2, logTerm: 3, granted: true },
    ];
    for (const type of ['MsgVote', 'MsgPreVote'] as const) {
      for (const c of cases) {
        const raft = newRaft(voterLog);
        raft.step(message({ type, from: 'n2', to: 'n1', term: 3, index: c.index, logTerm: c.logTerm }));
        const resp = drain(raft).messages.filter((m) => m.to === 'n2');
        assert.equal(resp.length, 1, `${type} ${c.name}`);
        assert.equal(resp[0]?.reject, !c.granted, `${type} ${c.name}: granted should be ${c.granted}`);
        if (type === 'MsgVote') assert.equal(raft.status().vote, c.granted ? 'n2' : null, `${type} ${c.name}`);
        // A pre-vote changes neither term nor vote.
        if (type === 'MsgPreVote') assert.deepEqual([raft.basicStatus().term, raft.status().vote], [2, null]);
      }
    }
  });

  void test('a stale candidate cannot win: the up-to-date nodes elect one of themselves', () => {
    // No PreVote and no lease, so that n2's answer depends on the logs alone.
    const net = new TestNetwork(ids, { preVote: false, checkQuorum: false });
    net.elect('n1');
    net.isolate('n3');
    net.propose('n1', 'x');
    net.heal();
    // n1 goes away; n3 (missing "x") times out first, but n2 must not vote for it.
    net.isolate('n1');
    const mark = net.delivered.length;
    for (let i = 0; i < 200 && !net.delivered.slice(mark).some((m) => m.type === 'MsgVoteResp'); i++) net.tick('n3');
    const answers = net.delivered.slice(mark).filter((m) => m.type === 'MsgVoteResp');
    assert.deepEqual(
      answers.map((m) => [m.from, m.to, m.term, m.reject]),
      [['n2', 'n3', 3, true]],
    );
    assert.equal(net.raft('n3').basicStatus().role, 'candidate');
    const leader = tickUntilLeader(net, ['n2', 'n3']);
    assert.equal(leader, 'n2');
    net.settle();
    assert.equal(net.raft('n3').basicStatus().leader, 'n2');
  });

  void test('election timeouts are randomized within [electionTicks, electionTicks * (1 + electionJitter))', () => {
    for (const [electionTicks, electionJitter] of [[30, 1], [10, 1], [30, 0.5], [10, 0.5]] as const) {
      const top = electionTicks + Math.round(electionTicks * electionJitter);
      const seen: number[] = [];
      for (let seed = 1; seed <= 300; seed++) {
        // A lone follower of a three-node cluster: nothing is delivered to or from it.
        const raft = newRaft({ id: 'n2', voters: ids, seed, config: { electionTicks, electionJitter, heartbeatTicks: 3 } });
        const { ticks, messages } = tickUntil(raft, ['MsgPreVote', 'MsgVote']);
        assert.ok(
          messages.every((m) => m.type === 'MsgPreVote'),
          'with PreVote on, the first election message is a pre-vote',
        );
        seen.push(ticks);
      }
      const min = Math.min(...seen);
      const max = Math.max(...seen);
      assert.ok(min >= electionTicks, `a timeout of ${min} ticks is below ${electionTicks}`);
      assert.ok(max < top, `a timeout of ${max} ticks is not below ${top}`);
      // Randomized, not fixed: the whole range is used.
      assert.ok(min <= electionTicks + 2 && max >= top - 3, `timeouts only spanned [${min}, ${max}]`);
      assert.ok(new Set(seen).size >= top - electionTicks - 2);
    }
  });

  void test('a split vote is retried at a higher term and eventually resolves', () => {
    const net = new TestNetwork(ids, { preVote: false });
    net.isolate('n3');
    // n1 and n2 time out before either hears from the other: both become candidates at term 2.
    for (const id of ['n1', 'n2']) {
      const raft = net.raft(id);
      for (let i = 0; i < 100 && raft.basicStatus().role !== 'candidate'; i++) raft.tick();
    }
    net.settle();
    for (const id of ['n1', 'n2']) {
      assert.deepEqual([net.raft(id).basicStatus().role, net.raft(id).basicStatus().term], ['candidate', 2], id);
      assert.equal(net.raft(id).status().vote, id);
    }
    const rejected = net.delivered.filter((m) => m.type === 'MsgVoteResp');
    assert.deepEqual(
      rejected.map((m) => [m.from, m.reject]),
      [
        ['n1', true],
        ['n2', true],
      ],
    );

    const leader = tickUntilLeader(net, ['n1', 'n2']);
    const other = leader === 'n1' ? 'n2' : 'n1';
    const term = net.raft(leader).basicStatus().term;
    assert.ok(term >= 3, `resolved at term ${term}`);
    net.settle();
    assert.deepEqual(net.raft(other).basicStatus().leader, leader);
    assert.equal(net.raft(other).basicStatus().term, term);
    net.heal();
    net.tickAll(20);
    assert.equal(leaderOf(net), leader);
    assert.equal(net.raft('n3').basicStatus().leader, leader);
  });

  void test('terms never decrease and each term has at most one leader, through random partitions', () => {
    for (const seed of [1, 2, 3]) {
      const prng = new Prng(seed);
      const net = new TestNetwork(ids, {}, seed);
      const lastTerm = new Map(ids.map((id) => [id, 0]));
      const leaderOfTerm = new Map<number, string>();
      for (let step = 0; step < 1500; step++) {
        const roll = prng.next();
        if (roll < 0.01) net.isolate(prng.pick(ids));
        else if (roll < 0.02) net.cut(prng.pick(ids), prng.pick(ids));
        else if (roll < 0.03) net.heal();
        else if (roll < 0.1) {
          const leader = ids.find((id) => net.raft(id).basicStatus().role === 'leader');
          if (leader !== undefined) net.propose(leader, `s${step}`);
        } else net.tickAll();
        for (const id of ids) {
          const st = net.raft(id).basicStatus();
          const before = lastTerm.get(id) ?? 0;
          assert.ok(st.term >= before, `seed ${seed} step ${step}: ${id} went from term ${before} to ${st.term}`);
          lastTerm.set(id, st.term);
          if (st.role === 'leader') {
            const known = leaderOfTerm.get(st.term);
            assert.ok(known === undefined || known === id, `two leaders in term ${st.term}: ${String(known)} and ${id}`);
            leaderOfTerm.set(st.term, id);
          }
        }
      }
      assert.ok(leaderOfTerm.size >= 2, `seed ${seed}: the scenario should see several terms with leaders`);
    }
  });

  void test('a candidate that wins sends its no-op to every follower at once', () => {
    const raft = newRaft({ id: 'n1', voters: ids });
    const out = campaignDirect(raft, ['n2']);
    const apps = out.filter((m) => m.type === 'MsgApp');
    assert.deepEqual(apps.map((m) => m.to).sort(), ['n2', 'n3']);
    for (const m of apps) {
      assert.deepEqual([m.term, m.index, m.logTerm], [2, 1, 1]);
      assert.deepEqual(
        m.entries.map((e) => [e.index, e.term, e.type === 'normal' ? e.data.byteLength : -1]),
        [[2, 2, 0]],
      );
    }
  });
});
