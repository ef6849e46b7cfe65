// Lint rules for Quorate. Type-aware so that promise mistakes are caught, and layered so that
// the consensus core and the simulator stay deterministic (DESIGN.md section 2, rules 1 and 2).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Ambient nondeterminism: wall-clock time, timers and randomness. The core, the state machines
// and the simulator must get time and randomness injected, or a seed would not replay exactly.
const ambientNondeterminism = {
  'no-restricted-globals': [
    'error',
    { name: 'setTimeout', message: 'Inject a Clock; ambient timers break deterministic replay.' },
    { name: 'setInterval', message: 'Inject a Clock; ambient timers break deterministic replay.' },
    { name: 'setImmediate', message: 'Inject a Clock; ambient timers break deterministic replay.' },
    { name: 'performance', message: 'Inject a Clock; wall-clock time breaks deterministic replay.' },
    { name: 'process', message: 'The deterministic layers do not touch the process.' },
  ],
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message: 'Inject a Clock; wall-clock time breaks deterministic replay.' },
    { object: 'Math', property: 'random', message: 'Use the injected Prng from util/prng.' },
    { object: 'crypto', property: 'randomUUID', message: 'Use the injected Prng from util/prng.' },
  ],
  'no-restricted-syntax': [
    'error',
    { selector: "NewExpression[callee.name='Date']", message: 'Inject a Clock; wall-clock time breaks deterministic replay.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The consensus core imports nothing from Node and reads neither clock nor randomness.
    files: ['src/raft/**/*.ts'],
    rules: {
      ...ambientNondeterminism,
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*', 'fs', 'net', 'os', 'crypto', 'child_process', 'timers', 'events'], message: 'src/raft is pure: no Node imports.' },
          { group: ['../*', '!../util', '!../util/*'], message: 'src/raft may only import from src/util.' }] },
      ],
    },
  },
  {
    // The simulator and the state machines are deterministic too, but the simulator's command
    // line entry point (sim/cli.ts) is allowed to read the process arguments and exit.
    files: ['src/sim/**/*.ts', 'src/state/**/*.ts'],
    ignores: ['src/sim/cli.ts'],
    rules: ambientNondeterminism,
  },
);
