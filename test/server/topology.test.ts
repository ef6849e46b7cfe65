/** The topology warnings of `cluster status`: two racks or zones, and lost nodes nothing can fence. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultFencingConfig, type WorkloadNode } from '../../src/state/index.js';
import { topologyWarnings } from '../../src/server/topology.js';

function server(id: string, labels: Record<string, string>): WorkloadNode {
  return { id, role: 'server', address: '10.0.0.1', apiAddress: '10.0.0.1:8080', watchdogTimeoutMs: 5000, labels, memoryMb: 1024, cpu: 2, eligible: true, draining: false, status: 'ready' };
}

const voters = ['node-1', 'node-2', 'node-3'];

test('voters in exactly two racks or zones are warned about; one, three, or unlabelled are not', () => {
  const two = [server('node-1', { rack: 'r1', zone: 'a' }), server('node-2', { rack: 'r1', zone: 'b' }), server('node-3', { rack: 'r2', zone: 'c' })];
  assert.deepEqual(topologyWarnings({ voters, nodes: two, fencing: defaultFencingConfig, stopJobs: 0 }), [
    'the voters are in exactly two racks (r1, r2): two racks is no better than one, since losing the rack with the majority stops writes; put a voter (or an arbiter) in a third rack',
  ]);
  const spread = [server('node-1', { rack: 'r1' }), server('node-2', { rack: 'r2' }), server('node-3', { rack: 'r3' })];
  assert.deepEqual(topologyWarnings({ voters, nodes: spread, fencing: defaultFencingConfig, stopJobs: 0 }), []);
  assert.deepEqual(topologyWarnings({ voters, nodes: [server('node-1', {}), server('node-2', {})], fencing: defaultFencingConfig, stopJobs: 0 }), []);
  // A worker's rack does not count: only voters hold the quorum.
  const withWorker = [...spread.slice(0, 2), server('node-3', { rack: 'r1' }), { ...server('node-10', { rack: 'r9' }), role: 'worker' as const }];
  assert.equal(topologyWarnings({ voters, nodes: withWorker, fencing: defaultFencingConfig, stopJobs: 0 }).length, 1);
});

test('stop jobs with no way to fence a lost node are warned about', () => {
  const off = { ...defaultFencingConfig, watchdog: false };
  assert.match(topologyWarnings({ voters, nodes: [], fencing: off, stopJobs: 2 })[0] ?? '', /^no fencing is configured \(no fence devices, watchdog fencing off\) while 2 job\(s\) use no-quorum policy stop/);
  assert.deepEqual(topologyWarnings({ voters, nodes: [], fencing: defaultFencingConfig, stopJobs: 2 }), [], 'watchdog fencing counts');
  assert.deepEqual(topologyWarnings({ voters, nodes: [], fencing: off, stopJobs: 0 }), []);
});
