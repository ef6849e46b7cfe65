/**
 * Issue 8's first acceptance criterion on real processes and real partitions (fencing-run.ts,
 * inside a private network namespace): across partitions of the agent, of a server and of the
 * leader, no job ever runs more copies than its count (by the copies' own start/stop records);
 * `stop` copies on the cut-off node stop within its watchdog timeout + 1 s of the partition;
 * `freeze` copies keep running there, and no `freeze` copy starts anywhere until the network
 * heals or an operator runs `quorate node confirm-dead` (after "powering off" the node), which
 * then gets them replaced; a `freeze` copy that crashes there meanwhile is restarted only after
 * the heal. Needs root, unshare and nftables, like the chaos suite.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { reportFromPrivateNetwork } from './network.js';
import { stopMarginMs, type FencingReport } from './fencing-run.js';

const program = fileURLToPath(new URL('./fencing-run.js', import.meta.url));

function fencingRun(): Promise<FencingReport> {
  return reportFromPrivateNetwork<FencingReport>(program, [], 'fencing run');
}

test('partitions of the agent, a server and the leader: never more copies than count; stop copies stop in time; freeze copies stay until heal or confirm-dead', async () => {
  const report = await fencingRun();
  const say = (line: string): boolean => process.stdout.write(`# ${line}\n`);
  say(`${report.copies} copies of ${Object.keys(report.jobs).length} jobs in ${report.seconds} s; nodes ${JSON.stringify(report.nodes)}`);
  say(`instants with more copies than count, per job: ${JSON.stringify(report.excessByJob)}`);
  for (const s of report.scenarios) {
    say(`${s.name}: ${s.node} cut off for ${s.healAt - s.partitionAt} ms (watchdog ${s.watchdogMs} ms)`);
    say(`  stop copies there stopped ${s.stopCopies.map((c) => `${c.allocation} +${String(c.stoppedAfterMs)} ms`).join(', ')} after the partition (limit ${s.watchdogMs + stopMarginMs} ms)`);
    say(`  started on the majority meanwhile: ${s.startedDuring.map((c) => `${c.allocation} (${c.policy}) +${c.afterMs} ms`).join(', ') || 'nothing'}`);
    say(`  freeze copies there: ${s.freezeCopies.map((c) => `${c.allocation} ${c.keptRunning ? 'kept running' : 'STOPPED'} (longest silence ${c.longestSilenceMs} ms)`).join(', ')}`);
    if (s.crash !== null) say(`  ${s.crash.allocation} crashed there +${s.crash.atMs} ms; ran again +${String(s.crash.restartedAfterMs)} ms (healed +${s.healAt - s.partitionAt} ms)`);
    say(`  copies on the majority that stopped meanwhile (unnecessary, not unsafe): ${s.stoppedOnMajority.join(', ') || 'none'}`);
    if (s.confirmDeadAt !== null) say(`  powered off, confirm-dead ${s.confirmDeadAt - (s.powerOffAt ?? 0)} ms later; freeze replacements ${s.freezeReplacements.map((r) => `${r.allocation} +${r.afterMs} ms`).join(', ')} after it`);
  }
  assert.deepEqual(report.errors, [], 'the run went through');
  assert.deepEqual(report.excess, [], 'no instant at which a job ran more copies than its count');
  assert.deepEqual(
    report.scenarios.map((s) => s.name),
    ['agent', 'server', 'leader'],
  );
  for (const s of report.scenarios) {
    assert.ok(s.stopCopies.length > 0, `${s.name}: a stop copy ran on the cut-off node`);
    for (const copy of s.stopCopies) {
      assert.ok(copy.stoppedAfterMs !== null, `${s.name}: ${copy.allocation} still ran at the heal`);
      assert.ok(copy.stoppedAfterMs <= s.watchdogMs + stopMarginMs, `${s.name}: ${copy.allocation} stopped ${copy.stoppedAfterMs} ms after the partition, beyond ${s.watchdogMs} + ${stopMarginMs} ms`);
      assert.ok(copy.recordedStop, `${s.name}: ${copy.allocation} was stopped (SIGTERM), not killed`);
    }
    assert.ok(
      s.startedDuring.some((c) => c.policy === 'stop'),
      `${s.name}: the majority replaced the stop copies`,
    );
    assert.ok(s.freezeCopies.length > 0, `${s.name}: a freeze copy ran on the cut-off node`);
    for (const copy of s.freezeCopies) assert.ok(copy.keptRunning, `${s.name}: ${copy.allocation} kept running through the partition`);
    assert.deepEqual(s.startsOnMinority, [], `${s.name}: nothing started on the cut-off node`);
    assert.deepEqual(s.freezeStartsBeforeRelease, [], `${s.name}: no freeze copy started before the heal or confirm-dead`);
    if (s.crash !== null) {
      // A freeze copy that crashes while cut off is not restarted there until quorum returns.
      assert.ok(s.crash.restartedAfterMs !== null, `${s.name}: the crashed ${s.crash.allocation} ran again after the heal`);
      assert.ok(s.crash.restartedAfterMs >= s.healAt - s.partitionAt, `${s.name}: the crashed ${s.crash.allocation} was restarted while cut off`);
    }
    if (s.confirmDeadAt === null) assert.deepEqual(s.freezeReplacements, []);
    else assert.equal(s.freezeReplacements.length, s.freezeCopies.length, `${s.name}: after confirm-dead each frozen copy was replaced`);
  }
  assert.ok(report.scenarios.some((s) => s.confirmDeadAt !== null), 'one scenario ends with confirm-dead');
  assert.ok(report.scenarios.some((s) => s.crash !== null), 'one scenario crashes a freeze copy while cut off');
  assert.deepEqual(report.nodeErrors, [], 'no node logged an error');
});
