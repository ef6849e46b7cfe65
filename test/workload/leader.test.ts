/**
 * The leader's workload loop on a real registry with a hand-driven clock: heartbeats register a
 * node and record status reports; a node is declared down only once no heartbeat has arrived for
 * its watchdog timeout + the margin (counted from the election for a new leader), and only then
 * are its copies replaced; the answer lists the node's allocations with the job specs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkloadRegistry, type WorkloadCommand } from '../../src/state/index.js';
import { silentLogger } from '../../src/util/log.js';
import { lossMarginMs, WorkloadLeader, type NodeDescription } from '../../src/workload/index.js';
import { webJob } from './job-fixture.js';

const watchdogTimeoutMs = 3000;

function worker(id: string): NodeDescription {
  return { id, role: 'worker', address: `127.0.0.${id.slice(-1)}`, apiAddress: `127.0.0.${id.slice(-1)}:8080`, watchdogTimeoutMs, labels: {}, memoryMb: 1024, cpu: 2 };
}

function setup(): { registry: WorkloadRegistry; leader: WorkloadLeader; clock: { now: number }; proposed: WorkloadCommand[]; role: { leader: boolean } } {
  const registry = new WorkloadRegistry();
  const clock = { now: 0 };
  const proposed: WorkloadCommand[] = [];
  const role = { leader: true };
  const leader = new WorkloadLeader({
    id: 'node-1',
    registry,
    isLeader: () => role.leader,
    propose: (command) => {
      proposed.push(command);
      return Promise.resolve(registry.apply(command));
    },
    now: () => clock.now,
    adminTokenHash: () => 'hash',
    log: silentLogger,
  });
  return { registry, leader, clock, proposed, role };
}

/** Let the scheduling rounds (promise chains) finish. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await sleep(0);
}

test('a heartbeat registers the node once and is answered with its allocations and their specs', async () => {
  const { registry, leader, proposed } = setup();
  leader.tick();
  await leader.heartbeat({ node: worker('w1'), freeMemoryMb: 500, reports: [] });
  await leader.heartbeat({ node: worker('w1'), freeMemoryMb: 400, reports: [] });
  assert.equal(proposed.filter((c) => c.op === 'nodeRegister').length, 1, 'an unchanged node is not registered again');
  registry.apply({ op: 'jobPut', spec: { ...webJob, count: 1 } });
  leader.schedule();
  await settle();
  const answer = await leader.heartbeat({ node: worker('w1'), freeMemoryMb: 400, reports: [] });
  assert.equal(answer.allocations.length, 1);
  assert.deepEqual(answer.jobs.map((j) => [j.spec.name, j.version]), [['web', 1]]);
  assert.equal(answer.adminTokenHash, 'hash');
  const id = answer.allocations[0]?.id ?? '';
  await leader.heartbeat({ node: worker('w1'), freeMemoryMb: 400, reports: [{ id, status: 'running', restarts: 0, exitCode: null, message: '' }] });
  assert.equal(registry.allocation(id)?.status, 'running');
  const reports = proposed.filter((c) => c.op === 'allocStatus').length;
  await leader.heartbeat({ node: worker('w1'), freeMemoryMb: 400, reports: [{ id, status: 'running', restarts: 0, exitCode: null, message: '' }] });
  assert.equal(proposed.filter((c) => c.op === 'allocStatus').length, reports, 'a report that changes nothing is not proposed');
  assert.deepEqual(
    leader.nodeViews().map((n) => [n.id, n.jobs, n.freeMemoryMb]),
    [['w1', 1, 400]],
  );
});

test('a silent node is down only after its watchdog timeout + the margin; then its copy is replaced', async () => {
  const { registry, leader, clock } = setup();
  leader.tick();
  await leader.heartbeat({ node: worker('w1'), freeMemoryMb: 500, reports: [] });
  await leader.heartbeat({ node: worker('w2'), freeMemoryMb: 500, reports: [] });
  registry.apply({ op: 'jobPut', spec: { ...webJob, count: 1 } });
  leader.schedule();
  await settle();
  const [first] = registry.allocations();
  assert.ok(first !== undefined);
  const victim = first.node;
  const survivor = victim === 'w1' ? 'w2' : 'w1';
  // The survivor keeps heartbeating; the victim goes silent at t = 0.
  for (clock.now = 500; clock.now <= watchdogTimeoutMs + lossMarginMs; clock.now += 500) {
    await leader.heartbeat({ node: worker(survivor), freeMemoryMb: 500, reports: [] });
    leader.tick();
    await settle();
    assert.equal(registry.node(victim)?.status, 'ready', `down already at ${clock.now} ms`);
    assert.equal(registry.allocations().length, 1, `replaced already at ${clock.now} ms`);
  }
  clock.now = watchdogTimeoutMs + lossMarginMs + 1;
  await leader.heartbeat({ node: worker(survivor), freeMemoryMb: 500, reports: [] });
  leader.tick();
  await settle();
  assert.equal(registry.node(victim)?.status, 'down');
  assert.equal(registry.allocation(first.id)?.status, 'lost');
  const replacement = registry.allocations().find((a) => a.id !== first.id && a.desired === 'run');
  assert.equal(replacement?.node, survivor);
});

test('a new leader counts every node from its own election', async () => {
  const { registry, leader, clock, role } = setup();
  leader.tick();
  await leader.heartbeat({ node: worker('w1'), freeMemoryMb: 500, reports: [] });
  role.leader = false;
  leader.tick();
  clock.now = 60_000;
  role.leader = true;
  leader.tick();
  await settle();
  assert.equal(registry.node('w1')?.status, 'ready', 'not down the moment leadership returns');
  clock.now = 60_000 + watchdogTimeoutMs + lossMarginMs + 1;
  leader.tick();
  await settle();
  assert.equal(registry.node('w1')?.status, 'down');
  await leader.heartbeat({ node: worker('w1'), freeMemoryMb: 500, reports: [] });
  assert.equal(registry.node('w1')?.status, 'ready', 'heard from again: registered anew');
});

test('a follower refuses heartbeats (the service forwards them to the leader)', async () => {
  const { leader, role } = setup();
  role.leader = false;
  await assert.rejects(leader.heartbeat({ node: worker('w1'), freeMemoryMb: 1, reports: [] }), /not the leader/);
});
