/**
 * The scheduler against the real workload registry: plans are applied as log entries would be,
 * and simulated nodes start, stop and crash allocations. Placement spreads copies and respects
 * roles, labels, memory and ports, saying why a copy cannot be placed; an update and a drain
 * change one copy at a time and never leave fewer than count - 1 running; a lost node's copies
 * are replaced; a completed copy is not. Over many seeded random schedules, no copy index ever
 * has two allocations that may be running at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkloadRegistry, isEnded, type Allocation, type JobSpec, type WorkloadCommand, type WorkloadNode } from '../../src/state/index.js';
import { Prng } from '../../src/util/prng.js';
import { reconcile, type Plan } from '../../src/workload/scheduler.js';
import { webJob } from './job-fixture.js';

const spec: JobSpec = { ...webJob, count: 3, resources: { memoryMb: 100, cpu: 0.5 } };

type NodeDef = Omit<WorkloadNode, 'eligible' | 'draining' | 'status'>;
const node = (id: string, extra: Partial<NodeDef> = {}): NodeDef => ({ id, role: 'worker', address: '127.0.0.1', apiAddress: '127.0.0.1:8080', watchdogTimeoutMs: 5000, labels: {}, memoryMb: 1000, cpu: 4, ...extra });

class Cluster {
  readonly registry = new WorkloadRegistry();
  private ids = 0;
  lastPlan: Plan = { place: [], stop: [], blocked: [] };

  do(command: WorkloadCommand): void {
    const result = this.registry.apply(command);
    assert.ok(result.ok, JSON.stringify(result));
  }

  /** One scheduler round, applied as the leader would propose it. */
  schedule(): Plan {
    const { nodes, jobs, allocations } = this.registry.state();
    this.lastPlan = reconcile({ nodes, jobs, allocations, newId: () => String(++this.ids) });
    if (this.lastPlan.place.length > 0 || this.lastPlan.stop.length > 0) this.do({ op: 'plan', place: this.lastPlan.place, stop: this.lastPlan.stop });
    return this.lastPlan;
  }

  /** The nodes do what they are told: start pending copies, stop the ones meant to stop. */
  nodesAct(): void {
    for (const a of this.registry.allocations()) {
      if (isEnded(a)) continue;
      if (a.desired === 'stop') this.report(a, 'complete', 0);
      else if (a.status === 'pending') this.report(a, 'running', null);
    }
  }

  /** The node is fenced, as the leader records it: down, and what it ran lost. */
  fenced(node: string): void {
    this.do({ op: 'nodeStatus', id: node, status: 'down' });
    const ids = this.registry.allocations().filter((a) => a.node === node && !isEnded(a)).map((a) => a.id);
    if (ids.length > 0) this.do({ op: 'allocsLost', ids, message: `node ${node} was lost` });
  }

  report(a: Allocation, status: Allocation['status'], exitCode: number | null): void {
    this.do({ op: 'allocStatus', id: a.id, status, restarts: 0, exitCode, message: '' });
  }

  settle(rounds = 20): void {
    for (let i = 0; i < rounds; i++) {
      this.schedule();
      this.nodesAct();
    }
  }

  running(job = 'web'): Allocation[] {
    return this.registry.allocations().filter((a) => a.job === job && a.status === 'running');
  }
}

test('copies spread over nodes, get ports, and respect role, labels and memory', () => {
  const c = new Cluster();
  for (const id of ['n1', 'n2', 'n3']) c.do({ op: 'nodeRegister', node: node(id) });
  c.do({ op: 'nodeRegister', node: node('s1', { role: 'server' }) });
  c.do({ op: 'jobPut', spec: { ...spec, constraints: { role: 'worker', labels: {} } } });
  c.settle();
  assert.deepEqual(c.running().map((a) => a.node).sort(), ['n1', 'n2', 'n3']);
  assert.ok(c.running().every((a) => a.ports.http === 20000));

  c.do({ op: 'jobPut', spec: { ...spec, name: 'big', count: 1, resources: { memoryMb: 5000, cpu: 1 } } });
  c.do({ op: 'jobPut', spec: { ...spec, name: 'zoned', count: 1, constraints: { role: 'any', labels: { zone: 'b' } } } });
  c.settle();
  assert.match(c.lastPlan.blocked.find((b) => b.job === 'big')?.reason ?? '', /n1 has 900 MB free, 5000 MB wanted/);
  assert.match(c.lastPlan.blocked.find((b) => b.job === 'zoned')?.reason ?? '', /n1 lacks zone=b/);
  c.do({ op: 'nodeRegister', node: node('n4', { labels: { zone: 'b' } }) });
  c.settle();
  assert.deepEqual(c.running('zoned').map((a) => a.node), ['n4']);

  c.do({ op: 'jobPut', spec: { ...spec, name: 'two-ports', count: 2, ports: ['http', 'admin'] } });
  c.settle();
  assert.equal(c.running('two-ports').length, 2);
  for (const id of ['n1', 'n2', 'n3', 'n4']) {
    const ports = c.registry.allocations().filter((a) => a.node === id && !isEnded(a)).flatMap((a) => Object.values(a.ports));
    assert.equal(new Set(ports).size, ports.length, `ports on ${id} are distinct: ${ports.join(', ')}`);
  }
});

test('an update replaces one copy at a time, never below count - 1 running', () => {
  const c = new Cluster();
  for (const id of ['n1', 'n2', 'n3']) c.do({ op: 'nodeRegister', node: node(id) });
  c.do({ op: 'jobPut', spec });
  c.settle();
  c.do({ op: 'jobPut', spec: { ...spec, args: ['--v2'] } });
  for (let round = 0; round < 30; round++) {
    const plan = c.schedule();
    assert.ok(plan.stop.length <= 1, 'one copy at a time');
    c.nodesAct();
    assert.ok(c.running().length >= spec.count - 1);
  }
  assert.deepEqual(
    c.running().map((a) => a.version),
    [2, 2, 2],
  );
});

test('a drain moves copies off the node one at a time; a lost node loses its copies to others', () => {
  const c = new Cluster();
  for (const id of ['n1', 'n2', 'n3', 'n4']) c.do({ op: 'nodeRegister', node: node(id) });
  c.do({ op: 'jobPut', spec: { ...spec, count: 4 } });
  c.settle();
  c.do({ op: 'nodeFlags', id: 'n1', draining: true });
  for (let round = 0; round < 20; round++) {
    c.schedule();
    c.nodesAct();
    assert.ok(c.running().length >= 3);
  }
  assert.ok(!c.running().some((a) => a.node === 'n1'));
  assert.equal(c.running().length, 4);

  c.fenced('n2');
  c.settle();
  assert.equal(c.running().length, 4);
  assert.ok(!c.running().some((a) => a.node === 'n1' || a.node === 'n2'));
});

test('a copy that completed stays done; a failed one is replaced unless the policy is never', () => {
  const c = new Cluster();
  c.do({ op: 'nodeRegister', node: node('n1') });
  c.do({ op: 'jobPut', spec: { ...spec, name: 'batch', count: 1, ports: [] } });
  c.do({ op: 'jobPut', spec: { ...spec, name: 'flaky', count: 1, ports: [] } });
  c.do({ op: 'jobPut', spec: { ...spec, name: 'once', count: 1, ports: [], restart: { ...spec.restart, policy: 'never' } } });
  c.settle();
  const byJob = (job: string): Allocation => c.running(job)[0] ?? assert.fail(`${job} is not running`);
  c.report(byJob('batch'), 'complete', 0);
  c.report(byJob('flaky'), 'failed', 1);
  c.report(byJob('once'), 'failed', 1);
  c.settle();
  assert.equal(c.running('batch').length, 0);
  assert.equal(c.running('flaky').length, 1);
  assert.equal(c.running('once').length, 0);
});

test('random schedules: a copy index never has two allocations that may be running', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const prng = new Prng(seed);
    const c = new Cluster();
    const ids = ['n1', 'n2', 'n3', 'n4'];
    for (const id of ids) c.do({ op: 'nodeRegister', node: node(id) });
    c.do({ op: 'jobPut', spec });
    for (let step = 0; step < 60; step++) {
      const roll = prng.int(0, 10);
      const target = ids[prng.int(0, ids.length)] ?? 'n1';
      const live = c.registry.allocations().filter((a) => !isEnded(a));
      const victim = live[prng.int(0, Math.max(1, live.length))];
      if (roll === 0) c.fenced(target);
      else if (roll === 1) c.do({ op: 'nodeRegister', node: node(target) });
      else if (roll === 2) c.do({ op: 'nodeFlags', id: target, draining: prng.chance(0.5) });
      else if (roll === 3) c.do({ op: 'jobPut', spec: { ...spec, count: prng.int(1, 5), args: [String(prng.int(0, 3))] } });
      else if (roll === 4 && victim !== undefined) c.report(victim, 'failed', 1);
      else if (roll < 7) c.schedule();
      else c.nodesAct();
      const count = c.registry.job('web')?.spec.count ?? 0;
      const mayRun = c.registry.allocations().filter((a) => !isEnded(a) && a.index < count);
      const indexes = mayRun.map((a) => a.index);
      assert.equal(new Set(indexes).size, indexes.length, `seed ${seed} step ${step}: two allocations for one copy: ${JSON.stringify(mayRun)}`);
    }
  }
});
