/**
 * The fencing file (src/workload/fencing-file.ts loadFencingFile) as a fuzz target. It has no
 * entry point for a parsed document, so documents go through a JSON file, as `quorate fence
 * config fencing.json` reads them.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FencingConfig } from '../../src/state/index.js';
import { loadFencingFile } from '../../src/workload/fencing-file.js';
import { withFile, type DocumentTarget } from './documents.js';
import { duration, durationMs, objectOf } from './job-documents.js';

const device = objectOf(
  {
    name: fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
    command: fc.string({ minLength: 1, maxLength: 12 }),
    args: fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
    timeout: duration,
    retries: fc.integer({ min: 0, max: 10 }),
  },
  ['name', 'command'],
);

const validFencing: fc.Arbitrary<Record<string, unknown>> = objectOf({
  no_quorum_policy: fc.constantFrom('stop', 'freeze', 'ignore'),
  watchdog: fc.boolean(),
  fence_delay: duration,
  two_node: fc.boolean(),
  level: fc.array(objectOf({ level: fc.integer({ min: 1, max: 9 }), device: fc.array(device, { minLength: 1, maxLength: 2 }) }, ['level', 'device']), { maxLength: 3 }),
});

function checkConfig(doc: Record<string, unknown>, result: unknown): void {
  const config = result as FencingConfig;
  assert.equal(config.noQuorumPolicy, doc['no_quorum_policy'] ?? 'stop');
  assert.equal(config.watchdog, doc['watchdog'] ?? true);
  const delay = doc['fence_delay'] as string | undefined;
  assert.equal(config.fenceDelayMs, delay === undefined ? null : durationMs(delay));
  assert.equal(config.twoNode ?? false, doc['two_node'] ?? false);
  const levels = (doc['level'] ?? []) as readonly { level: number; device: readonly Record<string, unknown>[] }[];
  assert.deepEqual(
    config.levels.map((l) => [l.level, l.devices.map((d) => d.name)]),
    levels.map((l) => [l.level, l.device.map((d) => d['name'])]),
  );
}

export const fencingTarget: DocumentTarget = {
  what: 'fencing file',
  code: 'invalid_config',
  valid: validFencing,
  keys: ['no_quorum_policy', 'watchdog', 'fence_delay', 'two_node', 'level'],
  tables: ['level', 'level.device'],
  parse: (document) => {
    // undefined for values JSON cannot hold (a function, undefined): the file is then empty.
    const json = JSON.stringify(document) as string | undefined;
    return withFile(json ?? '', '.json', loadFencingFile);
  },
  load: loadFencingFile,
  check: checkConfig,
};
