/**
 * The short chaos suite on every `npm test`: a 3-node and a 5-node cluster of real processes,
 * each nemesis at least once (SIGKILL of a random node and of the leader, SIGSTOP of the leader
 * and of a random node, a minority partition, the leader cut off from its peers, a bridge, a
 * member removed and added back), with concurrent clients and watchers; the recorded history
 * must be linearizable per key, every node must converge to the same revision and content, and
 * the watchers must have seen every change in order. `npm run chaos -- --minutes 30` is the
 * long version. A third run in a deliberately unsafe mode shows the checker reports real
 * anomalies.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ChaosReport } from './run.js';
import { reportFromPrivateNetwork } from './network.js';

const cli = fileURLToPath(new URL('./cli.js', import.meta.url));

function chaos(nodes: number, seed: number, extra: readonly string[] = []): Promise<ChaosReport> {
  return reportFromPrivateNetwork<ChaosReport>(cli, ['--seconds', '10', '--nodes', String(nodes), '--seed', String(seed), ...extra], 'chaos run');
}

for (const [nodes, seed] of [[3, 1], [5, 2]] as const) {
  test(`${nodes} nodes under every nemesis: linearizable and converged`, async () => {
    const report = await chaos(nodes, seed);
    process.stdout.write(`# ${nodes} nodes: ${report.operations} operations, ${report.unknown} unknown, faults ${JSON.stringify(report.faults)}\n`);
    assert.deepEqual(Object.keys(report.faults).sort(), ['bridge', 'isolate-leader', 'kill-leader', 'kill-random', 'partition-minority', 'pause-leader', 'pause-random', 'remove-readd']);
    assert.equal(report.linearizable.ok, true, `${report.linearizable.key ?? ''}: ${report.linearizable.reason ?? ''}`);
    assert.ok(report.converged, `nodes did not converge: revisions ${report.revisions.join(', ')}`);
    assert.deepEqual(report.watchProblems, [], 'the watchers saw every change, in order');
    assert.deepEqual(report.nodeErrors, [], 'no node logged an error');
    assert.ok(report.operations > 500, 'the clients kept working through the faults');
  });
}

test('the checker catches a deliberately unsafe mode: serializable reads recorded as linearizable', async () => {
  // Reads answered from each node's own state (stale on a follower that lags, and on an old
  // leader cut off from its peers while clients still reach it) must be reported, with the
  // operations that cannot be ordered.
  const report = await chaos(3, 3, ['--faults', 'isolate-leader', '--unsafe-serializable-reads']);
  assert.equal(report.linearizable.ok, false, 'stale reads went unnoticed');
  assert.match(report.linearizable.reason ?? '', /not linearizable: \d+ operations have no valid order; .*read\(/);
  process.stdout.write(`# unsafe mode caught on key ${report.linearizable.key ?? ''}\n`);
});
