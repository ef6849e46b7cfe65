/**
 * Recovery benchmark: write a WAL of the given size (256-byte entries, in large unsynced
 * batches with a final fdatasync), close it, and time how long opening and loading it takes:
 * every record is read and checksummed, and the log is rebuilt in memory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../src/raft/index.js';
import { DiskStorage } from '../src/storage/index.js';

export interface RecoveryResult {
  readonly bytes: number;
  readonly entries: number;
  readonly writeSeconds: number;
  readonly recoverySeconds: number;
}

export async function benchRecovery(gib: number): Promise<RecoveryResult> {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-recovery-'));
  try {
    const target = gib * 1024 * 1024 * 1024;
    const storage = await DiskStorage.open({ dir });
    await storage.load();
    const data = new Uint8Array(256).fill(42);
    const batch = 4096;
    const written = performance.now();
    let index = 0;
    while (storage.walStats().bytes < target) {
      const entries: Entry[] = Array.from({ length: batch }, () => ({ type: 'normal', index: ++index, term: 1, data }));
      await storage.save({ hardState: { term: 1, vote: null, commit: index }, entries, snapshot: null, sync: false });
    }
    await storage.save({ hardState: null, entries: [], snapshot: null, sync: true });
    const bytes = storage.walStats().bytes;
    await storage.close();
    const writeSeconds = (performance.now() - written) / 1000;
    const recovered = performance.now();
    const reopened = await DiskStorage.open({ dir });
    const state = await reopened.load();
    const recoverySeconds = (performance.now() - recovered) / 1000;
    if (state.entries.length !== index) throw new Error(`recovered ${state.entries.length} entries, wrote ${index}`);
    await reopened.close();
    return { bytes, entries: index, writeSeconds, recoverySeconds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
