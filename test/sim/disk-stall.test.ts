/**
 * A disk that stalls is not a dead node. The benchmark machine's disk took 0.5-1.1 s for an
 * occasional fdatasync, idle or loaded, and the cluster lost its leader under load: every node's
 * Ready loop waited on its write, so the leader's heartbeats and the followers' answers waited
 * with it, and the leader stepped down for want of a quorum (check quorum). Heartbeats and their
 * answers now go out while a write is in flight (Raft.takeHeartbeats). Here every disk stalls
 * with fsyncs of up to 900 ms (three election timeouts) for 3 s under a steady write load: the
 * leader must keep its term throughout, and writes must commit again once the disks recover.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimCluster } from '../../src/sim/cluster.js';
import { encodeCommand } from '../../src/sim/register-machine.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { Trace } from '../../src/sim/trace.js';
import { Prng } from '../../src/util/prng.js';

const warmupMs = 2000;
const stallMs = 3000;
const fsyncMaxMs = 900;

async function stallRun(seed: number): Promise<{ termBefore: number; termAfter: number; committedAfterStall: number }> {
  const prng = new Prng(seed);
  const scheduler = new Scheduler();
  const cluster = new SimCluster(scheduler, prng.fork(), new Trace(false), 3, { requestTimeoutMs: 10_000 });
  await cluster.startAll();
  const seen = { committedAfterStall: 0, termBefore: -1 };
  const write = (): void => {
    const proposedAt = scheduler.now();
    try {
      cluster
        .leader()
        ?.node?.propose(encodeCommand({ op: 'put', key: 'k', value: String(proposedAt) }))
        .then(
          () => {
            if (proposedAt >= warmupMs + stallMs) seen.committedAfterStall++;
          },
          () => undefined,
        );
    } catch {
      // No leader at this moment: the next write tries again.
    }
    scheduler.after(5, write);
  };
  write();
  const term = (): number => cluster.leader()?.node?.basicStatus().term ?? -1;
  scheduler.at(warmupMs, () => {
    seen.termBefore = term();
    for (const slot of cluster.live()) slot.disk.stall(fsyncMaxMs);
  });
  scheduler.at(warmupMs + stallMs, () => {
    for (const slot of cluster.live()) slot.disk.stall(null);
  });
  const end = warmupMs + stallMs + 2000;
  await scheduler.runUntil(end, () => false);
  assert.deepEqual(cluster.checker.violations, [], `seed ${seed}`);
  return { termBefore: seen.termBefore, termAfter: term(), committedAfterStall: seen.committedAfterStall };
}

test('a leader keeps its term while every disk stalls for three election timeouts, and writes resume after', async () => {
  for (let seed = 1; seed <= 20; seed++) {
    const { termBefore, termAfter, committedAfterStall } = await stallRun(seed);
    assert.ok(termBefore > 0, `seed ${seed}: no leader before the stall`);
    assert.equal(termAfter, termBefore, `seed ${seed}: the leader changed during the stall (term ${termBefore} -> ${termAfter})`);
    assert.ok(committedAfterStall > 0, `seed ${seed}: no write committed after the disks recovered`);
  }
});
