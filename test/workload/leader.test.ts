/**
 * The leader's workload loop on a real registry with a hand-driven clock: heartbeats register a
 * node and record status reports; a silent node is lost, then fenced: by its watchdog only once
 * no heartbeat has arrived for its watchdog timeout + the margin (counted from the election for a
 * new leader), or earlier by fence devices (real commands, level by level); only a fenced node's
 * copies are replaced, and with every device failing and watchdog fencing off, none are; a node
 * that holds no jobs is never fenced by a device.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FencingRegistry, WorkloadRegistry, type FenceDevice, type WorkloadCommand } from '../../src/state/index.js';
import { silentLogger } from '../../src/util/log.js';
import { lossMarginMs, lostAfterMs, WorkloadLeader, type NodeDescription } from '../../src/workload/index.js';
import { webJob } from './job-fixture.js';

const watchdogTimeoutMs = 3000;

function worker(id: string): NodeDescription {
  return { id, role: 'worker', address: `127.0.0.${id.slice(-1)}`, apiAddress: `127.0.0.${id.slice(-1)}:8080`, watchdogTimeoutMs, labels: {}, memoryMb: 1024, cpu: 2 };
}

function setup(): { registry: WorkloadRegistry; fencing: FencingRegistry; leader: WorkloadLeader; clock: { now: number }; proposed: WorkloadCommand[]; role: { leader: boolean; quorum: boolean } } {
  const registry = new WorkloadRegistry();
  const fencing = new FencingRegistry();
  const clock = { now: 0 };
  const proposed: WorkloadCommand[] = [];
  const role = { leader: true, quorum: true };
  const leader = new WorkloadLeader({
    id: 'node-1',
    registry,
    isLeader: () => role.leader,
    confirmLeader: () => (role.quorum ? Promise.resolve() : Promise.reject(new Error('no quorum confirmed this leader'))),
    propose: (command) => {
      proposed.push(command);
      return Promise.resolve(registry.apply(command));
    },
    now: () => clock.now,
    logReaders: () => ({ adminTokenHash: 'hash', tokens: [] }),
    servers: () => ['127.0.0.1:8080'],
    tlsGrant: () => Promise.resolve(undefined),
    fencingConfig: () => fencing.config,
    recordFence: (event) => {
      fencing.apply({ op: 'fenceRecord', event });
      return Promise.resolve();
    },
    wallClock: () => clock.now,
    log: silentLogger,
  });
  return { registry, fencing, leader, clock, proposed, role };
}

/** Let the scheduling rounds (promise chains) finish. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await sleep(0);
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
  assert.deepEqual(answer.logReaders, { adminTokenHash: 'hash', tokens: [] });
  assert.deepEqual(answer.servers, ['127.0.0.1:8080']);
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
    assert.notEqual(registry.node(victim)?.status, 'down', `down already at ${clock.now} ms`);
    assert.equal(registry.allocations().length, 1, `replaced already at ${clock.now} ms`);
  }
  assert.equal(registry.node(victim)?.status, 'lost', 'lost (being fenced) before it is down');
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

test('a leader that no quorum confirms answers no heartbeat (an isolated leader must not extend fences)', async () => {
  const { leader, role } = setup();
  await leader.heartbeat({ node: worker('w1'), freeMemoryMb: 1, reports: [] });
  role.quorum = false;
  await assert.rejects(leader.heartbeat({ node: worker('w1'), freeMemoryMb: 1, reports: [] }), /no quorum/);
});

const agent = fileURLToPath(new URL('../../../deploy/fence-agents/fence_record', import.meta.url));

function recorder(name: string, log: string, exit = 0): FenceDevice {
  return { name, command: agent, args: ['--log', log, '--exit', String(exit)], timeoutMs: 5000, retries: 0 };
}

/** Two workers, one job copy on `victim`, the other heartbeating; returns the victim and its copy. */
async function lostCopy(s: ReturnType<typeof setup>): Promise<{ victim: string; survivor: string; copy: string }> {
  s.leader.tick();
  await s.leader.heartbeat({ node: worker('w1'), freeMemoryMb: 500, reports: [] });
  await s.leader.heartbeat({ node: worker('w2'), freeMemoryMb: 500, reports: [] });
  s.registry.apply({ op: 'jobPut', spec: { ...webJob, count: 1 } });
  s.leader.schedule();
  await settle();
  const [first] = s.registry.allocations();
  assert.ok(first !== undefined);
  return { victim: first.node, survivor: first.node === 'w1' ? 'w2' : 'w1', copy: first.id };
}

/** Advance the clock with the survivor heartbeating, letting fencing commands finish in between. */
async function silence(s: ReturnType<typeof setup>, survivor: string, untilMs: number, done: () => boolean): Promise<void> {
  for (; s.clock.now <= untilMs && !done(); s.clock.now += 250) {
    await s.leader.heartbeat({ node: worker(survivor), freeMemoryMb: 500, reports: [] });
    s.leader.tick();
    await sleep(30);
  }
}

test('fence devices: level 1 fails, level 2 succeeds; the node is down and its copy replaced before its watchdog would have fenced it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-leader-fence-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const s = setup();
  s.fencing.apply({ op: 'fencingConfigure', config: { noQuorumPolicy: 'stop', watchdog: true, fenceDelayMs: null, levels: [{ level: 1, devices: [recorder('ipmi', join(dir, 'ipmi'), 1)] }, { level: 2, devices: [recorder('pdu', join(dir, 'pdu'))] }] } });
  const { victim, survivor, copy } = await lostCopy(s);
  await silence(s, survivor, watchdogTimeoutMs + lossMarginMs, () => s.registry.node(victim)?.status === 'down');
  assert.equal(s.registry.node(victim)?.status, 'down');
  assert.ok(s.clock.now < watchdogTimeoutMs + lossMarginMs, `fenced at ${s.clock.now} ms, not by the devices`);
  assert.equal(s.registry.allocation(copy)?.status, 'lost');
  assert.equal(s.registry.allocations().find((a) => a.id !== copy && a.desired === 'run')?.node, survivor, 'replaced on the survivor');
  const [event] = s.fencing.history();
  assert.deepEqual([event?.node, event?.method, event?.outcome], [victim, 'devices', 'fenced']);
  assert.match(event?.detail ?? '', /^level 1: ipmi failed \(exit 1: .*\); level 2: pdu ok$/);
  assert.equal((await readFile(join(dir, 'pdu'), 'utf8')).trim(), `off ${victim} 127.0.0.${victim.slice(-1)}`);
});

test('every device fails and watchdog fencing is off: the node stays lost, nothing is replaced, and the leader says why', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-leader-fence-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const s = setup();
  s.fencing.apply({ op: 'fencingConfigure', config: { noQuorumPolicy: 'stop', watchdog: false, fenceDelayMs: null, levels: [{ level: 1, devices: [recorder('ipmi', join(dir, 'ipmi'), 1)] }] } });
  const { victim, survivor, copy } = await lostCopy(s);
  await silence(s, survivor, 3 * (watchdogTimeoutMs + lossMarginMs), () => false);
  assert.equal(s.registry.node(victim)?.status, 'lost');
  assert.equal(s.registry.allocation(copy)?.status, 'pending', 'still counted as running there');
  assert.equal(s.registry.allocations().length, 1, 'no replacement');
  const view = s.leader.nodeViews().find((n) => n.id === victim);
  assert.match(view?.fencing ?? '', /^fencing failed: every level failed: level 1: ipmi failed \(exit 1: .*\); watchdog fencing is off, so its jobs are not replaced until a fence device succeeds/);
  assert.deepEqual(s.fencing.history().map((e) => e.outcome), ['failed']);
});

test('a silent node that holds no jobs (admitted, not started yet) is down without any fence device run', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-leader-fence-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const s = setup();
  s.fencing.apply({ op: 'fencingConfigure', config: { noQuorumPolicy: 'stop', watchdog: false, fenceDelayMs: null, levels: [{ level: 1, devices: [recorder('ipmi', join(dir, 'ipmi'))] }] } });
  s.leader.tick();
  await s.leader.heartbeat({ node: worker('w1'), freeMemoryMb: 500, reports: [] });
  // Registered by its admission, never heard from.
  s.registry.apply({ op: 'nodeRegister', node: worker('w2') });
  await silence(s, 'w1', 2 * (watchdogTimeoutMs + lossMarginMs), () => s.registry.node('w2')?.status === 'down');
  assert.equal(s.registry.node('w2')?.status, 'down');
  assert.deepEqual(s.fencing.history(), [], 'no device was run');
  await assert.rejects(readFile(join(dir, 'ipmi')), 'the device was never asked');
  await s.leader.heartbeat({ node: worker('w2'), freeMemoryMb: 500, reports: [] });
  assert.equal(s.registry.node('w2')?.status, 'ready', 'ready once it heartbeats');
});

test('a node whose watchdog timeout is not below fence_delay is refused', async () => {
  const s = setup();
  s.fencing.apply({ op: 'fencingConfigure', config: { noQuorumPolicy: 'stop', watchdog: true, fenceDelayMs: watchdogTimeoutMs, levels: [] } });
  s.leader.tick();
  await assert.rejects(s.leader.heartbeat({ node: worker('w1'), freeMemoryMb: 1, reports: [] }), /watchdog timeout \(3000 ms\) is not below the cluster's fence_delay \(3000 ms\)/);
});

test('no-quorum policies: ignore is replaced as soon as the node is lost; freeze survives watchdog fencing until confirm-dead', async () => {
  const s = setup();
  s.leader.tick();
  await s.leader.heartbeat({ node: worker('w1'), freeMemoryMb: 500, reports: [] });
  s.registry.apply({ op: 'jobPut', spec: { ...webJob, name: 'cache', noQuorumPolicy: 'ignore' } });
  s.registry.apply({ op: 'jobPut', spec: { ...webJob, name: 'db', noQuorumPolicy: 'freeze' } });
  s.registry.apply({ op: 'jobPut', spec: { ...webJob, name: 'web' } });
  s.leader.schedule();
  await settle();
  const on = (job: string): string | undefined => s.registry.allocations().find((a) => a.job === job && a.node === 'w1')?.status;
  await s.leader.heartbeat({ node: worker('w2'), freeMemoryMb: 500, reports: [] });
  await silence(s, 'w2', lostAfterMs + 250, () => s.registry.node('w1')?.status === 'lost');
  await settle();
  assert.equal(s.registry.node('w1')?.status, 'lost');
  assert.deepEqual([on('cache'), on('db'), on('web')], ['lost', 'pending', 'pending'], 'ignore: replaced at once; the others wait for fencing');
  await silence(s, 'w2', watchdogTimeoutMs + lossMarginMs + 1000, () => s.registry.node('w1')?.status === 'down');
  await settle();
  assert.equal(s.registry.node('w1')?.status, 'down');
  assert.deepEqual([on('db'), on('web')], ['pending', 'lost'], 'the watchdog stopped the stop job only: the frozen one may still run');
  assert.equal(s.registry.allocations().filter((a) => a.job === 'db' && a.desired === 'run').length, 1, 'no second copy of the frozen job');
  await assert.rejects(s.leader.confirmDead('w2'), /w2 is ready: its heartbeats arrive/);
  await s.leader.confirmDead('w1');
  await settle();
  assert.equal(on('db'), 'lost');
  assert.equal(s.registry.allocations().find((a) => a.job === 'db' && a.node === 'w2')?.desired, 'run', 'replaced once confirmed dead');
  assert.deepEqual(s.fencing.history().map((e) => [e.method, e.outcome]), [['watchdog', 'fenced'], ['manual', 'fenced']]);
});
