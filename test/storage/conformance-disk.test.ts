/** The LogStorage conformance suite against the real DiskStorage in a temporary directory. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskStorage } from '../../src/storage/index.js';
import { describeLogStorage } from './conformance.js';

describeLogStorage('DiskStorage', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-conformance-'));
  // Tiny segments, so that rotation and compaction are part of every case.
  const open = (): Promise<DiskStorage> => DiskStorage.open({ dir, segmentBytesMax: 512, warn: () => undefined });
  let current = await open();
  return {
    storage: current,
    restart: async () => {
      await current.close();
      current = await open();
      return current;
    },
    dispose: async () => {
      await current.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
