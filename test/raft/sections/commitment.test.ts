// Committing entries from previous terms, Raft paper section 5.4.2 and Figure 8. A new leader
// must not decide that an entry of an older term is committed because a majority holds it; it
// commits such an entry only indirectly, together with an entry of its own term (its no-op).
// Checked by stepping hand-made append responses into a leader whose log ends with term-2
// entries, with appendBytesMax 1 so that the old entry and the no-op travel separately; and on
// the TestNetwork by looking at the commit index the leader advertises in every MsgApp. The
// testingBugs.commitOldTermByCounting switch must break exactly this rule.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Raft, RaftConfig } from '../../../src/raft/index.js';
import { campaignDirect, customNetwork, drain, ent, message, newRaft } from './helpers.js';

const ids = ['n1', 'n2', 'n3'];

/**
 * n1's log: 2@2, 3@2 (from the leader of term 2, never committed). It becomes leader of term 3
 * with n2's vote and appends its no-op 4@3. n2 holds only 2@2.
 */
function newLeader(config: Partial<RaftConfig>): Raft {
  const leader = newRaft({ id: 'n1', voters: ids, term: 2, entries: [ent(2, 2), ent(3, 2)], config: { appendBytesMax: 1, ...config } });
  const out = campaignDirect(leader, ['n2']);
  assert.deepEqual(leader.basicStatus(), { role: 'leader', leader: 'n1', term: 3, commit: 1, applied: 1, lastIndex: 4 });
  const app = out.find((m) => m.type === 'MsgApp' && m.to === 'n2');
  assert.deepEqual([app?.index, app?.logTerm, app?.entries.map((e) => e.index)], [3, 2, [4]]);
  // n2 lacks index 3: it rejects, and the leader backs off to send 3@2 alone.
  leader.step(message({ type: 'MsgAppResp', from: 'n2', to: 'n1', term: 3, index: 3, reject: true, rejectHint: 2, logTerm: 2 }));
  const retry = drain(leader).messages.filter((m) => m.type === 'MsgApp' && m.to === 'n2');
  assert.deepEqual(
    retry.map((m) => [m.index, m.entries.map((e) => `${e.index}@${e.term}`)]),
    [[2, ['3@2']]],
  );
  return leader;
}

void describe('§5.4.2 committing entries from previous terms (Figure 8)', () => {
  void test('a new leader does not commit an old-term entry because a majority holds it', () => {
    const leader = newLeader({});
    // n1 and n2 now both hold 3@2: a majority of three, but of term 2, not 3.
    leader.step(message({ type: 'MsgAppResp', from: 'n2', to: 'n1', term: 3, index: 3 }));
    const after = drain(leader);
    assert.equal(leader.status().progress.get('n2')?.match, 3);
    assert.equal(leader.basicStatus().commit, 1, 'index 3 (term 2) must not be committed by counting replicas');
    assert.deepEqual(after.committed, []);
    // The pipelined append of the no-op advertises the old commit index.
    const next = after.messages.filter((m) => m.type === 'MsgApp' && m.to === 'n2');
    assert.deepEqual(
      next.map((m) => [m.index, m.commit, m.entries.map((e) => e.index)]),
      [[3, 1, [4]]],
    );
  });

  void test('the old-term entry commits together with the first entry of the leader\'s term', () => {
    const leader = newLeader({});
    leader.step(message({ type: 'MsgAppResp', from: 'n2', to: 'n1', term: 3, index: 3 }));
    drain(leader);
    leader.step(message({ type: 'MsgAppResp', from: 'n2', to: 'n1', term: 3, index: 4 }));
    const after = drain(leader);
    assert.equal(leader.basicStatus().commit, 4);
    assert.deepEqual(
      after.committed.map((e) => `${e.index}@${e.term}`),
      ['2@2', '3@2', '4@3'],
    );
  });

  void test('testingBugs.commitOldTermByCounting commits the old-term entry by counting (the switch works)', () => {
    const leader = newLeader({ testingBugs: { commitOldTermByCounting: true } });
    leader.step(message({ type: 'MsgAppResp', from: 'n2', to: 'n1', term: 3, index: 3 }));
    const after = drain(leader);
    assert.equal(leader.basicStatus().commit, 3);
    assert.deepEqual(
      after.committed.map((e) => `${e.index}@${e.term}`),
      ['2@2', '3@2'],
    );
  });

  void test('on the network, the commit index a new leader advertises skips straight to its no-op', () => {
    for (const buggy of [false, true]) {
      const config: Partial<RaftConfig> = { appendBytesMax: 1, ...(buggy ? { testingBugs: { commitOldTermByCounting: true } } : {}) };
      const net = customNetwork(
        ids,
        [
          { id: 'n1', term: 2, entries: [ent(2, 2), ent(3, 2)] },
          { id: 'n2', term: 2, entries: [ent(2, 2)] },
          { id: 'n3', term: 2, entries: [ent(2, 2)] },
        ],
        config,
      );
      net.cut('n1', 'n3');
      net.elect('n1');
      const advertised = net.delivered.filter((m) => m.type === 'MsgApp' && m.from === 'n1').map((m) => m.commit);
      assert.equal(net.raft('n1').basicStatus().commit, 4);
      if (buggy) assert.ok(advertised.includes(3), `with the bug, commit 3 is advertised: ${advertised.join(',')}`);
      else assert.deepEqual([...new Set(advertised)], [1, 4], `advertised commits ${advertised.join(',')}`);
    }
  });
});
