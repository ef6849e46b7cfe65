/**
 * The server's heap mode switches to favouring memory once the live heap passes 256 MiB and
 * back below 192 MiB, and not in between (the gap keeps it from flapping).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { watchHeapMode } from '../../src/server/heap-mode.js';

const MiB = 2 ** 20;

test('the heap mode follows the live heap with a gap between the two thresholds', async () => {
  const lines: string[] = [];
  let used = 100 * MiB;
  const stop = watchHeapMode({ log: (_level, message) => lines.push(message) }, { heapUsed: () => used, checkIntervalMs: 5 });
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));
  try {
    await settle();
    assert.deepEqual(lines, [], 'small heap: speed, nothing to switch');
    used = 300 * MiB;
    await settle();
    assert.deepEqual(lines, ['large heap: V8 now favours memory over speed']);
    used = 220 * MiB;
    await settle();
    assert.equal(lines.length, 1, 'between the thresholds nothing changes');
    used = 150 * MiB;
    await settle();
    assert.deepEqual(lines.slice(1), ['heap small again: V8 favours speed']);
  } finally {
    stop();
  }
});
