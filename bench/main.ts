/**
 * `npm run bench`: Quorate's benchmarks, printed as tables. Each figure is the median of
 * several runs with the min and max beside it, because one run on a shared machine says little.
 *
 *   npm run bench                          storage appends, 1 GiB recovery, the 3-node cluster
 *                                          against etcd (bench/cluster/index.ts), then the cost of
 *                                          500 agents' heartbeats (bench/agents/index.ts)
 *   npm run bench -- --runs 5 --seconds 5  more and longer runs (storage and recovery)
 *   npm run bench -- --only storage|recovery|cluster|agents
 *   npm run bench -- cluster [--quick] ...  the cluster bench alone, with its own flags
 *   npm run bench -- agents [--agents N] ...  the agents bench alone, with its own flags
 *   npm run bench -- --recovery-gib 0.25   a smaller recovery test
 *   npm run bench -- --profile DIR         CPU profiles of the cluster bench's Quorate nodes
 *   npm run bench -- --client etcd         the cluster bench through one etcd gRPC client for both
 */
import { parseArgs } from 'node:util';
import { median } from '../src/util/stats.js';
import { benchAgents } from './agents/index.js';
import { benchCluster } from './cluster/index.js';
import { benchRecovery } from './recovery.js';
import { benchAppends, type AppendResult } from './storage.js';

// The cluster and agents benches parse their own flags, which parseArgs below would reject.
if (process.argv[2] === 'cluster') process.exit(await benchCluster(process.argv.slice(3)));
if (process.argv[2] === 'agents') process.exit(await benchAgents(process.argv.slice(3)));
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    only: { type: 'string' },
    'recovery-gib': { type: 'string', default: '1' },
    profile: { type: 'string' },
    client: { type: 'string' },
  },
});
const runs = Number(values.runs);
const seconds = Number(values.seconds);
const gib = Number(values['recovery-gib']);
if (!(runs >= 1 && seconds > 0 && gib > 0)) {
  process.stderr.write('bench: --runs must be >= 1, --seconds and --recovery-gib positive\n');
  process.exit(2);
}

function cell(samples: readonly number[], digits: number): string {
  const fmt = (n: number): string => n.toFixed(digits);
  return `${fmt(median(samples))} (${fmt(Math.min(...samples))}-${fmt(Math.max(...samples))})`;
}

async function storageTable(): Promise<void> {
  process.stdout.write(`\nStorage: single-voter node on DiskStorage, 256-byte entries, median (min-max) of ${runs} runs of ${seconds}s\n`);
  process.stdout.write(`${['proposers', 'appends/s', 'p50 ms', 'p99 ms', 'fdatasyncs/1000 entries'].map((h) => h.padEnd(26)).join('')}\n`);
  for (const concurrency of [1, 16, 256]) {
    const results: AppendResult[] = [];
    for (let r = 0; r < runs; r++) results.push(await benchAppends(concurrency, seconds));
    const row = [
      String(concurrency),
      cell(results.map((x) => x.opsPerSec), 0),
      cell(results.map((x) => x.p50Ms), 2),
      cell(results.map((x) => x.p99Ms), 2),
      cell(results.map((x) => x.fdatasyncsPer1000), 1),
    ];
    process.stdout.write(`${row.map((c) => c.padEnd(26)).join('')}\n`);
  }
}

async function recoveryTable(): Promise<void> {
  process.stdout.write(`\nRecovery: open and load a ${gib} GiB WAL (every record checksummed)\n`);
  const result = await benchRecovery(gib);
  process.stdout.write(
    `  ${(result.bytes / 2 ** 30).toFixed(2)} GiB, ${result.entries} entries: written in ${result.writeSeconds.toFixed(1)}s, recovered in ${result.recoverySeconds.toFixed(2)}s\n`,
  );
}

if (values.only === undefined || values.only === 'storage') await storageTable();
if (values.only === undefined || values.only === 'recovery') await recoveryTable();
const exitCodes: number[] = [];
if (values.only === undefined || values.only === 'cluster') exitCodes.push(await benchCluster([...(values.profile === undefined ? [] : ['--profile', values.profile]), ...(values.client === undefined ? [] : ['--client', values.client])]));
if (values.only === undefined || values.only === 'agents') exitCodes.push(await benchAgents([]));
process.exitCode = Math.max(0, ...exitCodes);
