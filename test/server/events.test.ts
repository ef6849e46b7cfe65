/**
 * The node's cluster events (issue 10), without a network: the ring numbers, stamps, bounds and
 * pages events and feeds subscribers; the events derived from the replicated log come from
 * real entries applied to a real ClusterStateMachine through EventingStateMachine (members
 * joining, promoted and removed; nodes ready, lost, fenced and down; jobs placed, failed and
 * replaced), and refused, replayed and KV entries make none; the leader and quorum events
 * come from a sequence of (leader, term, time) observations.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConfChange } from '../../src/raft/index.js';
import { ClusterStateMachine, encodeFencingCommand, encodeKvCommand, encodeWorkloadCommand, type FencingCommand, type JobSpec, type WorkloadCommand } from '../../src/state/index.js';
import { clusterEventTypes, EventLog, type EventFact } from '../../src/server/events.js';
import { LeadershipEvents, quorumLossElections } from '../../src/server/leadership-events.js';
import { EventingStateMachine } from '../../src/server/log-events.js';
import { webJob } from '../workload/job-fixture.js';

test('the ring numbers and stamps events, keeps the newest, pages from a seq and feeds subscribers', () => {
  let now = Date.UTC(2026, 10, 22, 10, 0, 0);
  const log = new EventLog(() => now, 3);
  assert.deepEqual(log.since(0), { events: [], next: 1 });
  const seen: number[] = [];
  const subscription = log.subscribe((event) => seen.push(event.seq));
  for (let i = 1; i <= 5; i++) {
    log.record({ type: 'node_ready', node: `node-${i}`, message: `node-${i} is ready to run jobs` });
    now += 1000;
  }
  subscription.dispose();
  log.record({ type: 'node_lost', node: 'node-1', message: 'lost' });
  assert.deepEqual(seen, [1, 2, 3, 4, 5], 'subscribers get each event once, until they dispose');
  const all = log.since(0);
  assert.deepEqual(
    all.events.map((e) => e.seq),
    [4, 5, 6],
    'only the newest eventsMax are kept',
  );
  assert.equal(all.next, 7);
  assert.deepEqual(all.events[0], { seq: 4, time: '2026-11-22T10:00:03.000Z', type: 'node_ready', node: 'node-4', message: 'node-4 is ready to run jobs' });
  assert.deepEqual(
    log.since(5).events.map((e) => e.seq),
    [5, 6],
  );
  assert.deepEqual(log.since(7), { events: [], next: 7 }, 'from = next: nothing new yet');
  assert.deepEqual(
    log.since(2).events.map((e) => e.seq),
    [4, 5, 6],
    'a seq that fell out of the ring starts at the oldest kept',
  );
  assert.deepEqual(
    log.since(500).events.map((e) => e.seq),
    [4, 5, 6],
    'a seq beyond next (the node restarted) is served as 0',
  );
});

/** Applies entries as the driver would, collecting what EventingStateMachine records. */
class Replica {
  readonly state = new ClusterStateMachine();
  readonly facts: EventFact[] = [];
  private readonly machine: EventingStateMachine;
  private index = 0;

  constructor(replayedThrough = 0) {
    this.machine = new EventingStateMachine(this.state, (fact) => this.facts.push(fact), replayedThrough);
  }

  apply(entry: { type: 'normal'; term: number; data: Uint8Array } | { type: 'conf'; term: number; change: ConfChange }): void {
    this.machine.apply({ ...entry, index: ++this.index });
  }

  workload(command: WorkloadCommand, term = 2): void {
    this.apply({ type: 'normal', term, data: encodeWorkloadCommand(command) });
  }

  fencing(command: FencingCommand, term = 2): void {
    this.apply({ type: 'normal', term, data: encodeFencingCommand(command) });
  }

  /** The facts recorded since the last call, as [type, node, job] and the message. */
  take(): [string, string | undefined, string | undefined, string][] {
    return this.facts.splice(0).map((f) => [f.type, f.node, f.job, f.message]);
  }
}

const spec: JobSpec = { ...webJob, name: 'web', count: 1 };
const server = (id: string) => ({ op: 'nodeRegister', node: { id, role: 'server', address: '127.0.0.1', apiAddress: '127.0.0.1:8080', watchdogTimeoutMs: 5000, labels: {}, memoryMb: 1024, cpu: 2 } }) as const;
const place = (id: string, node: string) => ({ id, job: 'web', version: 1, index: 0, node, ports: { http: 20000 }, memoryMb: 64, cpu: 0.1 });

test('membership changes in the log are member events, with the entry term', () => {
  const replica = new Replica();
  replica.apply({ type: 'conf', term: 4, change: { type: 'addLearner', nodeId: 'node-4' } });
  replica.apply({ type: 'conf', term: 4, change: { type: 'promote', nodeId: 'node-4' } });
  replica.apply({ type: 'conf', term: 5, change: { type: 'remove', nodeId: 'node-2' } });
  assert.deepEqual(replica.facts, [
    { type: 'member_joined', node: 'node-4', term: 4, message: 'node-4 joined the cluster as a learner' },
    { type: 'member_promoted', node: 'node-4', term: 4, message: 'node-4 was promoted from learner to voter' },
    { type: 'member_removed', node: 'node-2', term: 5, message: 'node-2 was removed from the cluster' },
  ]);
});

test('a node that fails over: ready, job placed and failed, lost, fenced, down, job replaced', () => {
  const replica = new Replica();
  replica.workload(server('node-1'));
  replica.workload(server('node-2'));
  replica.workload(server('node-1'));
  assert.deepEqual(replica.take(), [
    ['node_ready', 'node-1', undefined, 'node-1 is ready to run jobs'],
    ['node_ready', 'node-2', undefined, 'node-2 is ready to run jobs'],
  ], 'registering again with no change is no event');

  replica.workload({ op: 'jobPut', spec });
  replica.workload({ op: 'plan', place: [place('web.0.a', 'node-1')], stop: [] });
  replica.workload({ op: 'plan', place: [place('web.0.a', 'node-1')], stop: [] });
  replica.workload({ op: 'allocStatus', id: 'web.0.a', status: 'running', restarts: 0, exitCode: null, message: '' });
  assert.deepEqual(replica.take(), [['job_placed', 'node-1', 'web', 'job web copy 0 placed on node-1 (allocation web.0.a, version 1)']], 'a refused plan places nothing');

  replica.workload({ op: 'allocStatus', id: 'web.0.a', status: 'failed', restarts: 3, exitCode: 1, message: 'exited with code 1; 3 restarts within 60 s used up' });
  replica.workload({ op: 'allocStatus', id: 'web.0.a', status: 'failed', restarts: 3, exitCode: 1, message: 'reported again' });
  assert.deepEqual(replica.take(), [['job_failed', 'node-1', 'web', 'job web copy 0 failed on node-1 (allocation web.0.a): exited with code 1; 3 restarts within 60 s used up']]);

  replica.workload({ op: 'plan', place: [place('web.0.b', 'node-1')], stop: ['web.0.a'] });
  replica.workload({ op: 'allocStatus', id: 'web.0.b', status: 'running', restarts: 0, exitCode: null, message: '' });
  replica.workload({ op: 'nodeStatus', id: 'node-1', status: 'lost' });
  replica.fencing({ op: 'fenceRecord', event: { node: 'node-1', atMs: 1, method: 'devices', outcome: 'failed', detail: 'ipmi: timeout' } });
  replica.fencing({ op: 'fenceRecord', event: { node: 'node-1', atMs: 2, method: 'watchdog', outcome: 'fenced', detail: 'waited' } });
  replica.workload({ op: 'nodeStatus', id: 'node-1', status: 'down' });
  replica.workload({ op: 'allocsLost', ids: ['web.0.b'], message: 'node node-1 was lost (fenced by its watchdog)' });
  replica.workload({ op: 'plan', place: [place('web.0.c', 'node-2')], stop: ['web.0.b'] });
  assert.deepEqual(replica.take(), [
    ['job_placed', 'node-1', 'web', 'job web copy 0 placed on node-1 (allocation web.0.b, version 1)'],
    ['node_lost', 'node-1', undefined, 'node-1 is lost: the leader stopped hearing from it and is fencing it'],
    ['node_fenced', 'node-1', undefined, 'node-1 was fenced by its watchdog (no heartbeat for longer than fence_delay)'],
    ['node_down', 'node-1', undefined, 'node-1 is down: fenced, its allocations are replaced'],
    ['job_replaced', 'node-2', 'web', 'job web copy 0 replaced on node-2 (allocation web.0.c): its allocation on node-1 was lost'],
  ]);

  replica.workload(server('node-1'));
  assert.deepEqual(replica.take(), [['node_ready', 'node-1', undefined, 'node-1 is ready again (it was down)']]);
});

test('KV commands, refused commands and entries replayed at start make no events', () => {
  const replica = new Replica(3);
  replica.workload(server('node-1'));
  replica.apply({ type: 'conf', term: 1, change: { type: 'addLearner', nodeId: 'node-2' } });
  replica.workload({ op: 'nodeStatus', id: 'node-1', status: 'lost' });
  assert.deepEqual(replica.take(), [], 'entries up to the commit index found at start were reported before the restart');
  replica.workload({ op: 'nodeStatus', id: 'node-1', status: 'down' });
  replica.apply({ type: 'normal', term: 2, data: encodeKvCommand({ op: 'put', key: new TextEncoder().encode('k'), value: new Uint8Array(0) }) });
  replica.apply({ type: 'normal', term: 2, data: new Uint8Array(0) });
  replica.workload({ op: 'nodeStatus', id: 'nobody', status: 'down' });
  assert.deepEqual(
    replica.take().map(([type, node]) => [type, node]),
    [['node_down', 'node-1']],
  );
  assert.equal(replica.state.kv.revision, 2, 'the KV command was applied all the same');
});

test('leaders and quorum: elected once per leader and term; lost after three election timeouts without one; regained', () => {
  const facts: EventFact[] = [];
  const electionMs = 300;
  const watch = new LeadershipEvents(electionMs, (fact) => facts.push(fact));
  watch.observe(null, 1, 0);
  watch.observe('node-1', 2, 100);
  watch.observe('node-1', 2, 200);
  watch.observe('node-1', 3, 300);
  watch.observe(null, 3, 400);
  watch.observe(null, 4, 400 + quorumLossElections * electionMs - 1);
  watch.observe('node-2', 4, 1500);
  assert.deepEqual(
    facts.map((f) => [f.type, f.node, f.term, f.message]),
    [
      ['leader_elected', 'node-1', 2, 'node-1 was elected leader (term 2)'],
      ['leader_elected', 'node-1', 3, 'node-1 was elected leader (term 3)'],
      ['leader_elected', 'node-2', 4, 'node-2 was elected leader (term 4)'],
    ],
    'an ordinary election is no loss of quorum',
  );
  facts.length = 0;
  watch.observe(null, 5, 2000);
  watch.observe(null, 5, 2000 + quorumLossElections * electionMs);
  watch.observe(null, 6, 5000);
  watch.observe('node-3', 7, 6000);
  assert.deepEqual(
    facts.map((f) => [f.type, f.node, f.term, f.message]),
    [
      ['quorum_lost', undefined, 5, 'no quorum: no leader is known for 0.9 s. Writes are refused until a majority is back'],
      ['leader_elected', 'node-3', 7, 'node-3 was elected leader (term 7)'],
      ['quorum_regained', 'node-3', 7, 'quorum regained: node-3 leads (term 7)'],
    ],
  );
});

test('the event types are exactly the thirteen the API promises (the dashboard is built against them)', () => {
  const derived = ['leader_elected', 'member_joined', 'member_promoted', 'member_removed', 'node_lost', 'node_fenced', 'node_down', 'node_ready', 'quorum_lost', 'quorum_regained', 'job_placed', 'job_failed', 'job_replaced'];
  assert.deepEqual([...clusterEventTypes].sort(), derived.sort());
});
