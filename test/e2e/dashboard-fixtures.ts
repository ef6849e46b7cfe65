/**
 * API answers for the dashboard's rendering test: a cluster with a lagging member, a learner, a
 * lost worker, a job short of a copy and two events, typed with the API's own JSON types so
 * that the fixtures follow the API when it changes (the page's script is not type-checked).
 */
import type { ClusterStatusJson, JobStatusJson, JobSummaryJson, MemberViewJson, NodeViewJson } from '../../src/api/index.js';
import type { NodeReport } from '../../src/server/cluster-status.js';
import type { Allocation } from '../../src/state/index.js';
import { parseJobSpec } from '../../src/workload/job-spec.js';

const now = Date.parse('2025-01-01T12:00:00Z');

function report(id: string, appliedIndex: number, role: NodeReport['role']): NodeReport {
  return { id, role, term: 4, leader: '1', appliedIndex, commitIndex: appliedIndex, version: '0.1.0', uptimeMs: 60_000, freeMemoryBytes: 2 ** 31, totalMemoryBytes: 2 ** 33, clockMs: now, certificateNotAfter: '2026-01-01T00:00:00Z' };
}

function member(id: string, state: MemberViewJson['state'], voter: boolean, appliedIndex: number, lastContactMs: number): MemberViewJson {
  const role = id === '1' ? 'leader' : voter ? 'follower' : 'learner';
  return { id, address: `10.0.0.${id}:8081`, apiAddress: `10.0.0.${id}:8080`, voter, arbiter: false, state, report: report(id, appliedIndex, role), clockOffsetMs: 0, lastContactMs, error: null };
}

export const lagWarning = '2 lags by more than 100 entries (applied=1200): check its disk and network';

export const clusterStatus: ClusterStatusJson = {
  observer: '1',
  leader: '1',
  term: 4,
  voters: 2,
  quorum: { ok: true, required: 2, reachable: 2 },
  lastUpdateMs: 0,
  members: [member('1', 'ready', true, 1500, 0), member('2', 'lagging', true, 1200, 40), member('3', 'ready', false, 1499, 80)],
  warnings: [lagWarning],
};

function worker(id: string, status: NodeViewJson['status'], jobs: number, lastHeartbeatMs: number): NodeViewJson {
  const role = id === '1' ? 'server' : 'worker';
  return { id, role, address: `10.0.0.${id}`, apiAddress: `10.0.0.${id}:8080`, watchdogTimeoutMs: 3000, labels: {}, memoryMb: 4096, cpu: 2, eligible: true, draining: false, status, jobs, freeMemoryMb: 2048, lastHeartbeatMs, fencing: null };
}

export const nodes: { readonly nodes: readonly NodeViewJson[] } = { nodes: [worker('1', 'ready', 0, 0), worker('10', 'lost', 1, 4200), worker('11', 'ready', 1, 300)] };

export const jobs: { readonly jobs: readonly JobSummaryJson[] } = {
  jobs: [{ name: 'web', version: 2, count: 3, stopped: false, allocations: { pending: 0, running: 2, failed: 0, complete: 0, lost: 0 } }],
};

function allocation(index: number, node: string, desired: Allocation['desired'], status: Allocation['status']): Allocation {
  return { id: `web.${index}.${node}`, job: 'web', version: 2, index, node, ports: {}, memoryMb: 64, cpu: 0.1, desired, status, restarts: 0, exitCode: null, message: '', seq: index };
}

export const webJob: JobStatusJson = {
  job: { spec: parseJobSpec({ name: 'web', count: 3, command: '/usr/bin/true' }), version: 2, stopped: false },
  allocations: [allocation(0, '10', 'run', 'running'), allocation(1, '11', 'run', 'running'), allocation(2, '1', 'stop', 'failed')],
  blocked: [{ job: 'web', index: 2, reason: 'no node has 64 MB free' }],
};

/** GET /v1/events as issue 10 describes it: events in seq order and the seq to ask from next. */
export const events = {
  events: [
    { seq: 0, time: '2025-01-01T12:00:00.000Z', type: 'leader_elected', node: '1', term: 4, message: 'node 1 was elected leader in term 4' },
    { seq: 1, time: '2025-01-01T12:00:05.000Z', type: 'node_lost', node: '10', message: 'node 10 stopped sending heartbeats' },
  ],
  next: 2,
};
