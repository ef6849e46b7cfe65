/**
 * The workload registry through the cluster state machine, as log entries reach it: nodes
 * register and keep their flags across re-registration; a job's version moves only when its
 * spec changes; plans are checked whole against the current state before anything changes; a
 * node going down makes its allocations lost, and a late report from it cannot revive them;
 * ended allocations are pruned per job; malformed commands fail alike on every replica; the
 * snapshot round-trips byte for byte.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterStateMachine, encodeWorkloadCommand, endedAllocationsPerJobMax, type ClusterApplyResult, type JobSpec, type WorkloadCommand } from '../../src/state/index.js';
import { webJob } from '../workload/job-fixture.js';

const spec: JobSpec = { ...webJob, count: 2, args: ['server.js'] };

function machine(): { state: ClusterStateMachine; apply: (command: WorkloadCommand) => ClusterApplyResult } {
  const state = new ClusterStateMachine();
  let index = 0;
  return { state, apply: (command) => state.apply({ type: 'normal', index: ++index, term: 1, data: encodeWorkloadCommand(command) }) };
}

const worker = (id: string) => ({ op: 'nodeRegister', node: { id, role: 'worker', address: `127.0.0.${id.slice(-1)}`, apiAddress: `127.0.0.${id.slice(-1)}:8080`, watchdogTimeoutMs: 5000, labels: {}, memoryMb: 1024, cpu: 2 } }) as const;
const place = (id: string, node: string, index = 0, version = 1) => ({ id, job: 'web', version, index, node, ports: { http: 20000 + index }, memoryMb: 64, cpu: 0.1 });

test('nodes register, keep their flags, and go down with their allocations lost', () => {
  const { state, apply } = machine();
  apply(worker('w1'));
  assert.deepEqual(apply({ op: 'nodeFlags', id: 'w1', eligible: false }), { ok: true, kind: 'nodeFlags' });
  apply(worker('w1'));
  assert.equal(state.workload.node('w1')?.eligible, false, 're-registration keeps the operator flags');
  assert.equal(apply({ op: 'nodeFlags', id: 'nope', draining: true }).ok, false);

  apply(worker('w2'));
  apply({ op: 'jobPut', spec });
  assert.deepEqual(apply({ op: 'plan', place: [place('a0', 'w2', 0), place('a1', 'w2', 1)], stop: [] }), { ok: true, kind: 'plan' });
  apply({ op: 'allocStatus', id: 'a0', status: 'running', restarts: 0, exitCode: null, message: '' });
  apply({ op: 'nodeStatus', id: 'w2', status: 'down' });
  assert.deepEqual(
    state.workload.allocations().map((a) => a.status),
    ['running', 'pending'],
    'a node going down decides nothing about its allocations by itself (frozen ones may still run)',
  );
  assert.deepEqual(apply({ op: 'allocsLost', ids: ['a0', 'a1'], message: 'node w2 was lost' }), { ok: true, kind: 'allocsLost' });
  assert.equal(apply({ op: 'allocsLost', ids: ['nope'], message: '' }).ok, false);
  assert.deepEqual(
    state.workload.allocations().map((a) => [a.id, a.status]),
    [
      ['a0', 'lost'],
      ['a1', 'lost'],
    ],
  );
  apply({ op: 'allocStatus', id: 'a0', status: 'running', restarts: 0, exitCode: null, message: 'late' });
  assert.equal(state.workload.allocation('a0')?.status, 'lost', 'a late report does not revive a lost allocation');
  apply(worker('w2'));
  assert.equal(state.workload.node('w2')?.status, 'ready', 'registering again makes a node ready');
});

test('a job version moves only when the spec changes; stop keeps the job', () => {
  const { state, apply } = machine();
  assert.deepEqual(apply({ op: 'jobPut', spec }), { ok: true, kind: 'jobPut', version: 1 });
  assert.deepEqual(apply({ op: 'jobPut', spec }), { ok: true, kind: 'jobPut', version: 1 });
  assert.deepEqual(apply({ op: 'jobPut', spec: { ...spec, count: 3 } }), { ok: true, kind: 'jobPut', version: 2 });
  apply({ op: 'jobStop', name: 'web' });
  assert.equal(state.workload.job('web')?.stopped, true);
  assert.equal(apply({ op: 'jobStop', name: 'other' }).ok, false);
});

test('a plan is checked whole: nothing changes when any part is stale', () => {
  const { state, apply } = machine();
  apply(worker('w1'));
  apply({ op: 'jobPut', spec });
  apply({ op: 'plan', place: [place('a0', 'w1')], stop: [] });
  for (const stale of [
    { place: [place('a1', 'w1', 1), place('a0', 'w1')], stop: [] }, // a0 exists
    { place: [place('a1', 'w9', 1)], stop: [] }, // no such node
    { place: [place('a1', 'w1', 1, 2)], stop: [] }, // old job version
    { place: [place('a1', 'w1', 1)], stop: ['zz'] }, // no such allocation
  ]) {
    assert.equal(apply({ op: 'plan', ...stale }).ok, false);
  }
  assert.deepEqual(
    state.workload.allocations().map((a) => a.id),
    ['a0'],
  );
  apply({ op: 'nodeStatus', id: 'w1', status: 'down' });
  apply(worker('w2'));
  assert.equal(apply({ op: 'plan', place: [place('a1', 'w1', 1)], stop: [] }).ok, false, 'no placement on a node that is down');
});

test('ended allocations are pruned per job, oldest first', () => {
  const { state, apply } = machine();
  apply(worker('w1'));
  apply({ op: 'jobPut', spec });
  const total = endedAllocationsPerJobMax + 5;
  for (let n = 0; n < total; n++) {
    apply({ op: 'plan', place: [place(`a${n}`, 'w1')], stop: n === 0 ? [] : [`a${n - 1}`] });
    apply({ op: 'allocStatus', id: `a${n}`, status: 'failed', restarts: 3, exitCode: 1, message: 'crashed' });
  }
  const ids = state.workload.allocations().map((a) => a.id);
  assert.equal(ids.length, endedAllocationsPerJobMax + 1, 'the newest ended ones, plus the one not yet told to stop');
  assert.equal(ids.at(-1), `a${total - 1}`);
});

test('malformed commands fail alike everywhere; snapshots round-trip byte for byte', () => {
  const { state, apply } = machine();
  const bad = state.apply({ type: 'normal', index: 100, term: 1, data: encodeWorkloadCommand({ op: 'jobPut', spec: { ...spec, count: 0 } }) });
  assert.deepEqual(bad, { ok: false, code: 'bad_command', message: 'malformed workload command' });
  apply(worker('w1'));
  apply({ op: 'jobPut', spec });
  apply({ op: 'plan', place: [place('a0', 'w1')], stop: [] });
  const copy = new ClusterStateMachine();
  copy.restore(state.snapshot());
  assert.deepEqual(copy.snapshot(), state.snapshot());
  assert.deepEqual(copy.workload.allocations(), state.workload.allocations());
});
