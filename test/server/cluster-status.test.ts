/**
 * The judgement in `cluster status`, on hand-made member answers: the quorum counts voters that
 * answered, a member far behind is `lagging`, a silent one `unreachable`, and the warnings seed
 * 000 asks for (2 voters, an even number, lag, unreachable, clock skew, no quorum) appear when
 * they apply and not otherwise, as do issue 9's (a certificate or CA expiring within 30 days, an
 * API on plain HTTP); the text layout is the seed's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatStatus } from '../../src/cli/status-format.js';
import { gatherClusterStatus, type NodeReport } from '../../src/server/cluster-status.js';
import type { MemberStatus, NodeStatus } from '../../src/server/index.js';
import { QuorateError } from '../../src/util/errors.js';

function member(id: string, voter = true): MemberStatus {
  const n = id.split('-')[1] ?? '0';
  return { id, voter, arbiter: false, peerAddress: `10.0.0.${n}:8081`, apiAddress: `10.0.0.${n}:8080`, health: 'healthy', matchIndex: null, lastContactMs: 400 };
}

function self(members: MemberStatus[], leader: string | null): NodeStatus {
  return { id: 'node-1', role: leader === 'node-1' ? 'leader' : 'follower', term: 3, leader, commitIndex: 1247, appliedIndex: 1247, revision: 900, writeQuorum: 'majority', members };
}

const dayMs = 24 * 60 * 60 * 1000;
const inDays = (days: number): string => new Date(Date.now() + days * dayMs).toISOString();

function report(id: string, applied: number, clockMs = Date.now()): NodeReport {
  return { id, role: 'follower', term: 3, leader: 'node-1', appliedIndex: applied, commitIndex: applied, version: '0.1.0', uptimeMs: 1, freeMemoryBytes: 1, totalMemoryBytes: 2, clockMs, certificateNotAfter: inDays(300) };
}

async function view(members: MemberStatus[], leader: string | null, answers: Record<string, NodeReport | null>) {
  return gatherClusterStatus({
    self: self(members, leader),
    report: () => report('node-1', 1247),
    topology: () => [],
    ask: (id) => {
      const answer = answers[id];
      return answer === null || answer === undefined ? Promise.reject(new QuorateError('unreachable', `cannot reach node "${id}"`)) : Promise.resolve(answer);
    },
  });
}

test('a healthy 3-node cluster: quorum ok, every member ready, no warnings, the seed layout', async () => {
  const status = await view([member('node-1'), member('node-2'), member('node-3')], 'node-1', { 'node-2': report('node-2', 1247), 'node-3': report('node-3', 1246) });
  assert.deepEqual(status.quorum, { ok: true, required: 2, reachable: 3 });
  assert.deepEqual(status.warnings, []);
  assert.equal(
    formatStatus(status),
    [
      'cluster:  3 nodes',
      'quorum:   ok (2/3 required)',
      'leader:   node-1 (10.0.0.1)',
      'peers:',
      '  - node-1  10.0.0.1  server  ready  applied=1247',
      '  - node-2  10.0.0.2  server  ready  applied=1247',
      '  - node-3  10.0.0.3  server  ready  applied=1246',
      'last_update: 0.0s ago',
      '',
    ].join('\n'),
  );
});

test('lagging, unreachable and skewed members are named; a lost majority is degraded', async () => {
  const members = [member('node-1'), member('node-2'), member('node-3')];
  const lagging = await view(members, 'node-1', { 'node-2': report('node-2', 1000), 'node-3': report('node-3', 1247, Date.now() + 2_000) });
  assert.equal(lagging.members[1]?.state, 'lagging');
  assert.match(lagging.warnings.join('\n'), /node-2 lags by more than 100 entries \(applied=1000\)/);
  assert.match(lagging.warnings.join('\n'), /node-3's clock is 2\.0 s off/);

  const lost = await view(members, null, { 'node-2': null, 'node-3': null });
  assert.deepEqual(lost.quorum, { ok: false, required: 2, reachable: 1 });
  assert.equal(lost.members[2]?.state, 'unreachable');
  const text = formatStatus(lost);
  assert.match(text, /^quorum: {3}degraded \(2\/3 required\)$/m);
  assert.match(text, /^leader: {3}none$/m);
  assert.match(text, /^ {2}- node-3 {2}10\.0\.0\.3 {2}server {2}unreachable {2}applied=\?$/m);
  assert.match(text, /^warning: no quorum: no leader is known; 1 of 3 voters answered and 2 are required/m);
  assert.match(text, /^warning: node-2 \(10\.0\.0\.2:8081\) is unreachable: cannot reach node "node-2"$/m);
});

test('2 voters and even voter counts are warned about; learners do not count', async () => {
  const two = await view([member('node-1'), member('node-2'), member('node-3', false)], 'node-1', { 'node-2': report('node-2', 1247), 'node-3': report('node-3', 1247) });
  assert.equal(two.voters, 2);
  assert.match(two.warnings.join('\n'), /2 voters: no fault tolerance/);
  assert.match(formatStatus(two), /- node-3 {2}10\.0\.0\.3 {2}learner {2}ready/);
  const four = await view([member('node-1'), member('node-2'), member('node-3'), member('node-4')], 'node-1', {
    'node-2': report('node-2', 1247),
    'node-3': report('node-3', 1247),
    'node-4': report('node-4', 1247),
  });
  assert.match(four.warnings.join('\n'), /4 voters: an even number adds cost, not fault tolerance/);
});

test('certificates expiring within 30 days, an expired one and a plain-HTTP API are warned about', async () => {
  const members = [member('node-1'), member('node-2'), member('node-3')];
  const status = await view(members, 'node-1', {
    'node-2': { ...report('node-2', 1247), certificateNotAfter: inDays(12.5) },
    'node-3': { ...report('node-3', 1247), certificateNotAfter: inDays(-1), caNotAfter: inDays(20), insecureApi: true },
  });
  assert.deepEqual(
    status.warnings.map((w) => w.replace(/\(\d{4}-[^)]*\)/, '(DATE)').replace(/at \d{4}-[^ :]*:\d\d:[\d.]*Z/, 'at DATE')),
    [
      "node-2's certificate expires in 12 days (DATE) and has not been renewed; a server renews its own 30 days ahead, other nodes need new certificate files",
      "node-3's certificate expired at DATE: its peers refuse it; give it a new one (it renews itself when it holds the CA key)",
      'a CA node-3 trusts expires at DATE: rotate the CA (`quorate cluster ca rotate`) before then',
      'node-3 serves its API over plain HTTP (--insecure-api): tokens cross its loopback interface unencrypted; drop the flag to serve HTTPS',
    ],
  );
  const healthy = await view(members, 'node-1', { 'node-2': report('node-2', 1247), 'node-3': { ...report('node-3', 1247), caNotAfter: inDays(3000) } });
  assert.deepEqual(healthy.warnings, []);
});
