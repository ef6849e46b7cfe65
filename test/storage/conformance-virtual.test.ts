/**
 * The LogStorage conformance suite against the simulator's VirtualDisk. Its fsyncs complete as
 * scheduler events, so every call runs virtual time until the call has settled.
 */
import { Prng } from '../../src/util/prng.js';
import { emptyState, type LogStorage } from '../../src/node/index.js';
import { VirtualDisk } from '../../src/sim/disk.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { describeLogStorage } from './conformance.js';

function driven(disk: VirtualDisk, scheduler: Scheduler): LogStorage {
  const settle = async <T>(promise: Promise<T>): Promise<T> => {
    let done = false;
    const tracked = promise.finally(() => {
      done = true;
    });
    // A call may first await promise jobs (reading chunks) before it schedules its fsync.
    await new Promise((resolve) => setImmediate(resolve));
    await scheduler.runUntil(scheduler.now() + 1000, () => done);
    return tracked;
  };
  return {
    load: () => settle(disk.load()),
    save: (update) => settle(disk.save(update)),
    saveSnapshot: (snapshot) => settle(disk.saveSnapshot(snapshot)),
    saveSnapshotChunks: (meta, chunks) => settle(disk.saveSnapshotChunks(meta, chunks)),
    loadSnapshot: (meta) => settle(disk.loadSnapshot(meta)),
    compact: (index) => settle(disk.compact(index)),
  };
}

describeLogStorage('VirtualDisk', () => {
  const scheduler = new Scheduler();
  const disk = new VirtualDisk(scheduler, new Prng(7), emptyState);
  const storage = driven(disk, scheduler);
  return Promise.resolve({ storage, restart: () => Promise.resolve(storage), dispose: () => Promise.resolve() });
});
