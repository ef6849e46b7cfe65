/**
 * `npm run chaos -- [--minutes M | --seconds S] [--nodes 3|5] [--seed N] [--faults a,b]
 * [--unsafe-serializable-reads]`: one chaos run (run.ts)
 * on real processes, inside a private network namespace. Outside one it re-runs itself with
 * `unshare --net` (root needed); inside, it prints the report as JSON and exits 1 on a violation.
 * Run by the test runner (which takes every file under test/ for a test file and runs it with
 * NODE_TEST_CONTEXT set), it does nothing.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { inOwnNetwork } from './network.js';
import { passed, runChaos } from './run.js';

const script = fileURLToPath(import.meta.url);
const invoked = process.argv[1] === script && process.env.NODE_TEST_CONTEXT === undefined;

function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' },
      seconds: { type: 'string' },
      nodes: { type: 'string', default: '3' },
      seed: { type: 'string' },
      faults: { type: 'string' },
      'unsafe-serializable-reads': { type: 'boolean', default: false },
    },
  });
  return inOwnNetwork(script, async () => {
    const seconds = values.seconds !== undefined ? Number(values.seconds) : Number(values.minutes ?? '1') * 60;
    const nodes = Number(values.nodes);
    const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
    process.stderr.write(`chaos: ${nodes} nodes, ${seconds} s, seed ${seed}\n`);
    const report = await runChaos({
      nodes,
      seconds,
      seed,
      block: 60,
      reads: values['unsafe-serializable-reads'] ? 'serializable' : 'linearizable',
      ...(values.faults === undefined ? {} : { faults: values.faults.split(',') }),
    });
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return passed(report) ? 0 : 1;
  });
}

if (invoked) {
  main().then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
