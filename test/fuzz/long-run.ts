/**
 * `npm run fuzz -- [--runs N] [--seed S] [--only TEXT]`: every fuzz property (catalog.ts) with
 * N inputs each (10,000 by default) instead of the few hundred `npm test` tries, or only the
 * targets whose name contains TEXT. Prints, per target, the inputs tried and every failure with
 * its shrunk counterexample and seed; exits 1 when a property failed. Run by the test runner
 * (which takes every file under dist/test for a test file and sets NODE_TEST_CONTEXT), it does
 * nothing.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fuzzTargets } from './catalog.js';
import { fuzzSeed } from './property.js';

const invoked = process.argv[1] === fileURLToPath(import.meta.url) && process.env['NODE_TEST_CONTEXT'] === undefined;

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '10000' }, seed: { type: 'string' }, only: { type: 'string', default: '' } } });
  const runs = Number(values.runs);
  const seed = values.seed === undefined ? fuzzSeed() : Number(values.seed);
  print(`fuzz: ${runs} inputs per property, seed ${seed}`);
  let inputs = 0;
  let failures = 0;
  const started = performance.now();
  for (const target of fuzzTargets.filter((t) => t.name.includes(values.only))) {
    const opened = await target.open();
    let tried = 0;
    const lines: string[] = [];
    try {
      for (const property of opened.properties) {
        const t0 = performance.now();
        const outcome = await property.check(runs, seed);
        tried += outcome.runs;
        lines.push(`  ${outcome.failure === null ? 'ok  ' : 'FAIL'} ${property.name}: ${outcome.runs} inputs, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        if (outcome.failure !== null) {
          failures++;
          lines.push(`       ${outcome.failure.replaceAll('\n', '\n       ')}`);
        }
      }
    } finally {
      await opened.close();
    }
    inputs += tried;
    print(`${target.name}: ${tried} inputs`);
    lines.forEach(print);
  }
  print(`total: ${inputs} inputs, ${failures} failing properties, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return failures === 0 ? 0 : 1;
}

if (invoked) {
  main().then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`fuzz: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
