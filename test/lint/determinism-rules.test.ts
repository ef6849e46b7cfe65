/**
 * The lint rules that keep the consensus core and the simulator deterministic really fire:
 * ESLint (with the repository's own configuration) lints small snippets as if they were files
 * in src/raft and src/sim, and must report Node imports, wall-clock time, timers and
 * Math.random, while the same snippets are allowed elsewhere.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

const root = join(import.meta.dirname, '..', '..', '..');
// The snippets are not files of the TypeScript project, so lint them without type
// information; the rules under test do not need it, and the layered config still applies.
const eslint = new ESLint({ cwd: root, overrideConfig: tseslint.configs.disableTypeChecked });

async function ruleIds(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

const forbidden: readonly [string, string, string][] = [
  ['a Node import', "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n", 'no-restricted-imports'],
  ['wall-clock time', 'export const now = (): number => Date.now();\n', 'no-restricted-properties'],
  ['a Date object', 'export const now = (): Date => new Date();\n', 'no-restricted-syntax'],
  ['ambient randomness', 'export const r = (): number => Math.random();\n', 'no-restricted-properties'],
  ['a timer', 'export const t = (f: () => void): unknown => setTimeout(f, 1);\n', 'no-restricted-globals'],
];

describe('determinism lint rules', () => {
  for (const [what, code, rule] of forbidden) {
    test(`src/raft rejects ${what}`, async () => {
      assert.ok((await ruleIds('src/raft/probe.ts', code)).includes(rule));
    });
  }

  test('src/sim rejects wall-clock time and timers too', async () => {
    assert.ok((await ruleIds('src/sim/probe.ts', 'export const now = (): number => Date.now();\n')).includes('no-restricted-properties'));
    assert.ok((await ruleIds('src/sim/probe.ts', 'export const t = (f: () => void): unknown => setTimeout(f, 1);\n')).includes('no-restricted-globals'));
  });

  test('src/raft may not import from layers above it', async () => {
    const ids = await ruleIds('src/raft/probe.ts', "import { Scheduler } from '../sim/scheduler.js';\nexport const s = Scheduler;\n");
    assert.ok(ids.includes('no-restricted-imports'));
  });

  test('the node driver may use the clock (the rules are scoped, not global)', async () => {
    const ids = await ruleIds('src/node/probe.ts', 'export const now = (): number => Date.now();\n');
    assert.ok(!ids.includes('no-restricted-properties'), ids.join(', '));
  });
});
