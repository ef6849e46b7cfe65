/**
 * Storage benchmark: a single-voter node (the production driver on DiskStorage with the system
 * clock) under N concurrent proposers in closed loops, each proposing 256-byte entries. Reports
 * appends per second, append latency (propose to applied) and fdatasyncs per 1000 entries,
 * which shows group commit: under concurrency one fdatasync covers many entries.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng } from '../src/util/prng.js';
import { percentile } from '../src/util/stats.js';
import { RaftNode, bootstrapState, systemClock, type StateMachine } from '../src/node/index.js';
import { DiskStorage } from '../src/storage/index.js';

export interface AppendResult {
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly fdatasyncsPer1000: number;
}

/** Applies nothing: the benchmark measures the log, not a state machine. */
const nullMachine: StateMachine<null> = { apply: () => null, snapshot: () => new Uint8Array(0), restore: () => undefined };

export async function benchAppends(concurrency: number, seconds: number): Promise<AppendResult> {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-bench-'));
  try {
    const storage = await DiskStorage.open({ dir });
    await storage.load();
    const boot = bootstrapState(['n1'], new Uint8Array(0));
    await storage.save({ hardState: boot.hardState, entries: [], snapshot: boot.snapshot, sync: true });
    const node = await RaftNode.start({ id: 'n1', storage, transport: { send: () => undefined }, clock: systemClock, stateMachine: nullMachine, prng: new Prng(1) });
    while (node.basicStatus().role !== 'leader') await new Promise((r) => setTimeout(r, 5));
    const payload = new Uint8Array(256).fill(7);
    const latencies: number[] = [];
    const startStats = { ...storage.walStats() };
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const proposer = async (): Promise<void> => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await node.propose(payload);
        latencies.push(performance.now() - t);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, proposer));
    const elapsed = (performance.now() - started) / 1000;
    const fdatasyncs = storage.walStats().fdatasyncs - startStats.fdatasyncs;
    node.stop();
    await storage.close();
    latencies.sort((a, b) => a - b);
    return {
      opsPerSec: latencies.length / elapsed,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      fdatasyncsPer1000: (1000 * fdatasyncs) / latencies.length,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
