/**
 * The CLI's rendering of the workload, as pure functions of API answers built here: `node list`
 * merging Raft members with the leader's node view (seed 000's exact spacing, workers, learners,
 * down, draining and ineligible nodes, and the fallback without a leader), the `job status`
 * table with its blocked copies, `job list`, the line `job run` prints, and the line splitting
 * of `job logs`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterStatusJson, JobStatusJson, MemberViewJson, NodeViewJson } from '../../src/api/index.js';
import { formatJobList, formatJobStatus, formatSubmitted } from '../../src/cli/job-format.js';
import { LineSplitter, logTargets } from '../../src/cli/job-logs.js';
import { formatNodeList, nodeList } from '../../src/cli/node-list.js';
import type { Allocation } from '../../src/state/index.js';
import { webJob } from '../workload/job-fixture.js';

const gib = 1024 ** 3;

function member(id: string, freeGb: number | null, overrides: Partial<MemberViewJson> = {}): MemberViewJson {
  const report =
    freeGb === null
      ? null
      : {
          id,
          role: 'follower' as const,
          term: 2,
          leader: 'node-1',
          appliedIndex: 10,
          commitIndex: 10,
          version: '0.1.0',
          uptimeMs: 1000,
          freeMemoryBytes: freeGb * gib,
          totalMemoryBytes: 16 * gib,
          clockMs: 0,
          certificateNotAfter: '2035-01-01T00:00:00Z',
        };
  return { id, address: `10.0.0.${id.slice(5)}:8081`, apiAddress: `10.0.0.${id.slice(5)}:8080`, voter: true, arbiter: false, state: 'ready', report, clockOffsetMs: 0, lastContactMs: 0, error: null, ...overrides };
}

function cluster(members: readonly MemberViewJson[]): ClusterStatusJson {
  return { observer: 'node-1', leader: 'node-1', term: 2, voters: members.length, quorum: { ok: true, required: 2, reachable: 3 }, lastUpdateMs: 0, members, warnings: [] };
}

function node(id: string, role: 'server' | 'worker', freeMb: number | null, jobs: number, overrides: Partial<NodeViewJson> = {}): NodeViewJson {
  return {
    id,
    role,
    address: '10.0.0.1',
    apiAddress: `10.0.0.${id.slice(5)}:8080`,
    labels: {},
    memoryMb: 8192,
    cpu: 4,
    eligible: true,
    draining: false,
    status: 'ready',
    watchdogTimeoutMs: 10_000,
    jobs,
    freeMemoryMb: freeMb,
    lastHeartbeatMs: freeMb === null ? null : 500,
    fencing: null,
    ...overrides,
  };
}

test("node list prints seed 000's lines: servers from the members, workers from the leader's node view", () => {
  const view = cluster([member('node-1', 9), member('node-2', 3.4), member('node-3', 3.0)]);
  const nodes = [node('node-1', 'server', 3.2 * 1024, 2), node('node-2', 'server', null, 1), node('node-3', 'server', 3.0 * 1024, 2), node('node-10', 'worker', 7.8 * 1024, 0)];
  assert.equal(
    formatNodeList(nodeList(view, nodes)),
    [
      'node-1   server  ready   3.2 GB free   2 jobs',
      'node-2   server  ready   3.4 GB free   1 job',
      'node-3   server  ready   3.0 GB free   2 jobs',
      'node-10  worker  ready   7.8 GB free   0 jobs',
      '',
    ].join('\n'),
    "the leader's free memory wins over the member report; a node not heard from yet falls back to the report",
  );
});

test('node list shows learners, down nodes, unknown memory and the scheduling flags', () => {
  const view = cluster([member('node-1', 3.2), member('node-2', null, { voter: false }), member('node-3', null, { state: 'unreachable' })]);
  const nodes = [
    node('node-1', 'server', 3.2 * 1024, 1, { draining: true }),
    node('node-3', 'server', null, 0, { status: 'down' }),
    node('node-10', 'worker', 7.8 * 1024, 0, { eligible: false }),
    node('node-11', 'worker', null, 0, { draining: true, eligible: false, status: 'down' }),
  ];
  assert.equal(
    formatNodeList(nodeList(view, nodes)),
    [
      'node-1   server   ready   3.2 GB free   1 job   (draining)',
      'node-2   learner  ready   ? free        0 jobs',
      'node-3   server   down    ? free        0 jobs',
      'node-10  worker   ready   7.8 GB free   0 jobs  (ineligible)',
      'node-11  worker   down    ? free        0 jobs  (draining, ineligible)',
      '',
    ].join('\n'),
  );
});

test('without a leader node list still shows the members, with unknown job counts', () => {
  const entries = nodeList(cluster([member('node-1', 3.2), member('node-2', 3.4)]), null);
  assert.equal(formatNodeList(entries), 'node-1  server  ready   3.2 GB free   ? jobs\nnode-2  server  ready   3.4 GB free   ? jobs\n');
  assert.deepEqual(entries[0], { id: 'node-1', role: 'server', state: 'ready', freeMemoryMb: 3.2 * 1024, jobs: null, eligible: true, draining: false });
});

function allocation(id: string, overrides: Partial<Allocation> = {}): Allocation {
  return { id, job: 'web', version: 2, index: 0, node: 'node-1', ports: { http: 20001 }, memoryMb: 64, cpu: 0.1, desired: 'run', status: 'running', restarts: 0, exitCode: null, message: '', seq: 1, ...overrides };
}

const status: JobStatusJson = {
  job: { spec: { ...webJob, count: 3 }, version: 2, stopped: false },
  allocations: [
    allocation('web.0.aaaa1111', { version: 1, desired: 'stop', status: 'complete', exitCode: 0, message: 'stopped for version 2' }),
    allocation('web.0.bbbb2222', { node: 'node-10', restarts: 2 }),
    allocation('web.1.cccc3333', { index: 1, status: 'pending', ports: {} }),
  ],
  blocked: [{ job: 'web', index: 2, reason: 'node-1: not enough free memory' }],
};

test('job status: a header, the allocations table and the copies that cannot be placed', () => {
  assert.equal(
    formatJobStatus(status),
    [
      'job web  version 2  count 3',
      'ID              NODE     VERSION  DESIRED  STATUS    RESTARTS  PORTS       MESSAGE',
      'web.0.aaaa1111  node-1   1        stop     complete  0         http=20001  stopped for version 2',
      'web.0.bbbb2222  node-10  2        run      running   2         http=20001',
      'web.1.cccc3333  node-1   2        run      pending   0         -',
      'blocked: copy 2: node-1: not enough free memory',
      '',
    ].join('\n'),
  );
  assert.equal(formatJobStatus({ ...status, job: { ...status.job, stopped: true }, allocations: [], blocked: [] }), 'job web  version 2  count 3  (stopped)\nno allocations\n');
});

test('job list: running copies out of the count and a one-word state', () => {
  const counts = { pending: 0, running: 0, failed: 0, complete: 0, lost: 0 };
  assert.equal(
    formatJobList([
      { name: 'api', version: 1, count: 2, stopped: false, allocations: { ...counts, running: 2 } },
      { name: 'batch', version: 3, count: 1, stopped: true, allocations: counts },
      { name: 'web', version: 2, count: 3, stopped: false, allocations: { ...counts, running: 2, pending: 1 } },
      { name: 'worker', version: 1, count: 2, stopped: false, allocations: { ...counts, running: 1, failed: 1 } },
    ]),
    ['NAME    VERSION  RUNNING  STATUS', 'api     1        2/2      running', 'batch   3        0/1      stopped', 'web     2        2/3      starting', 'worker  1        1/2      degraded', ''].join('\n'),
  );
  assert.match(formatJobList([]), /^no jobs/);
});

test('job run tells a new job, an update, a restart and an unchanged submission apart', () => {
  const job = { spec: webJob, version: 1, stopped: false };
  assert.equal(formatSubmitted('web', null, 1, 3), 'job web submitted: version 1 (placing 3 allocations)\n');
  assert.equal(formatSubmitted('web', job, 2, 1), 'job web submitted: version 2 (rolling out one allocation at a time)\n');
  assert.equal(formatSubmitted('web', { ...job, stopped: true }, 1, 1), 'job web submitted: version 1 (starting again)\n');
  assert.equal(formatSubmitted('web', job, 1, 1), 'job web unchanged (version 1)\n');
});

test("job logs reads the running allocations from their nodes' API addresses, or the one asked for", () => {
  const nodes = [node('node-1', 'server', null, 1), node('node-10', 'worker', null, 1)];
  assert.deepEqual(logTargets(status, nodes, undefined), [{ allocation: 'web.0.bbbb2222', apiAddress: '10.0.0.10:8080' }]);
  assert.deepEqual(logTargets(status, nodes, 'web.0.aaaa1111'), [{ allocation: 'web.0.aaaa1111', apiAddress: '10.0.0.1:8080' }]);
  assert.throws(() => logTargets(status, nodes, 'web.9.none'), /job web has no allocation web\.9\.none/);
  assert.throws(() => logTargets({ ...status, allocations: [] }, nodes, undefined), /no running allocation.*--alloc ID/);
  assert.throws(() => logTargets(status, [], undefined), /node node-10, where web\.0\.bbbb2222 ran, is not registered/);
});

test('log chunks become whole lines; a partial line waits for its end', () => {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  splitter.push('one\ntw');
  splitter.push('o\n');
  splitter.push('thr');
  assert.deepEqual(lines, ['one', 'two']);
  splitter.end();
  assert.deepEqual(lines, ['one', 'two', 'thr']);
  splitter.push('x'.repeat(64 * 1024 + 5));
  assert.equal(lines.at(-1)?.length, 64 * 1024, 'an endless line is cut rather than buffered without bound');
});
