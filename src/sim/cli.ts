/**
 * `npm run sim`: run simulation campaigns and replay single seeds.
 *
 *   npm run sim -- --seeds 10000 [--from 1]     a campaign over seeds from..from+seeds-1
 *   npm run sim -- --seed 1234 [--trace]        replay one seed (prints its trace with --trace)
 *   npm run sim -- --failover --seeds 500       leader-crash failover time distribution
 *
 * Options that change a run (--nodes, --faults, --read-mode, --bug) are part of the replay
 * command printed with every failure.
 */
import { parseArgs } from 'node:util';
import { measureFailover, summarizeFailover } from './failover.js';
import { faultKinds, type FaultKind } from './nemesis.js';
import { replayCommand, runSimulation, type SimOptions } from './run.js';

const usage =
  'usage: npm run sim -- [--seeds N] [--from N] [--seed N] [--trace] [--nodes 3|5] [--faults a,b] [--fault-ms MS] [--nemesis-ms MIN,MAX]\n' +
  '                      [--append-bytes N] [--inflight N] [--read-mode readIndex|lease] [--bug NAME] [--failover]';

function fail(message: string): never {
  process.stderr.write(`sim: ${message}\n${usage}\n`);
  process.exit(2);
}

function parse(): { base: Omit<SimOptions, 'seed'>; from: number; seeds: number; trace: boolean; failover: boolean } {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      from: { type: 'string' },
      seed: { type: 'string' },
      trace: { type: 'boolean', default: false },
      nodes: { type: 'string' },
      faults: { type: 'string' },
      'read-mode': { type: 'string' },
      bug: { type: 'string', multiple: true },
      failover: { type: 'boolean', default: false },
      'nemesis-ms': { type: 'string' },
      'append-bytes': { type: 'string' },
      inflight: { type: 'string' },
      'fault-ms': { type: 'string' },
    },
  });
  const int = (name: string, text: string | undefined, fallback: number): number => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 0) fail(`--${name} must be a non-negative integer, got "${text}"`);
    return n;
  };
  const faults = values.faults?.split(',').map((f) => {
    if (!(faultKinds as readonly string[]).includes(f)) fail(`unknown fault "${f}"; known: ${faultKinds.join(', ')}`);
    return f as FaultKind;
  });
  const known = ['commitOldTermByCounting', 'voteTwice', 'readWithoutQuorum', 'skipElectionRestriction'];
  const bugs: Record<string, boolean> = {};
  for (const bug of values.bug ?? []) {
    if (!known.includes(bug)) fail(`unknown bug "${bug}"; known: ${known.join(', ')}`);
    bugs[bug] = true;
  }
  const readMode = values['read-mode'];
  if (readMode !== undefined && readMode !== 'readIndex' && readMode !== 'lease') fail(`--read-mode must be readIndex or lease`);
  const nodes = values.nodes === undefined ? undefined : int('nodes', values.nodes, 3);
  const interval = values['nemesis-ms']?.split(',').map((n) => int('nemesis-ms', n, 0));
  if (interval !== undefined && (interval.length !== 2 || (interval[0] ?? 0) >= (interval[1] ?? 0))) fail('--nemesis-ms takes MIN,MAX with MIN < MAX');
  const flowControl = {
    ...(values['append-bytes'] === undefined ? {} : { appendBytesMax: int('append-bytes', values['append-bytes'], 1) }),
    ...(values.inflight === undefined ? {} : { inflightMessagesMax: int('inflight', values.inflight, 1) }),
  };
  const base: Omit<SimOptions, 'seed'> = {
    ...(nodes === undefined ? {} : { nodes }),
    ...(interval === undefined ? {} : { nemesisIntervalMs: [interval[0] ?? 0, interval[1] ?? 1] as const }),
    ...(Object.keys(flowControl).length > 0 ? { flowControl } : {}),
    ...(values['fault-ms'] === undefined ? {} : { faultMs: int('fault-ms', values['fault-ms'], 6000) }),
    ...(faults === undefined ? {} : { faults }),
    ...(readMode === undefined ? {} : { readMode }),
    ...(Object.keys(bugs).length > 0 ? { bugs } : {}),
  };
  const single = values.seed !== undefined;
  return {
    base,
    from: single ? int('seed', values.seed, 1) : int('from', values.from, 1),
    seeds: single ? 1 : int('seeds', values.seeds, 100),
    trace: values.trace,
    failover: values.failover,
  };
}

async function campaign(): Promise<void> {
  const args = parse();
  if (args.failover) {
    const samples = [];
    for (let seed = args.from; seed < args.from + args.seeds; seed++) samples.push(await measureFailover(seed));
    process.stdout.write(`${summarizeFailover(samples)}\n`);
    return;
  }
  let failures = 0;
  const started = performance.now();
  for (let seed = args.from; seed < args.from + args.seeds; seed++) {
    const options: SimOptions = { ...args.base, seed, keepTrace: args.trace };
    const result = await runSimulation(options);
    if (args.trace) for (const line of result.trace.all()) process.stdout.write(`${line}\n`);
    if (result.failure !== null) {
      failures++;
      process.stdout.write(`FAIL seed ${seed} (${result.nodes} nodes, faults ${result.faults.join(',')}): ${result.failure.kind}: ${result.failure.message}\n`);
      process.stdout.write(`  last events:\n${result.trace.last().map((l) => `    ${l}`).join('\n')}\n`);
      process.stdout.write(`  replay: ${replayCommand(options)} --trace\n`);
    } else if (args.seeds === 1 || seed % 100 === 0) {
      process.stdout.write(`ok seed ${seed}: ${result.nodes} nodes, faults ${result.faults.join(',')}, ${result.stats.operations} ops, ${result.stats.committed} committed, trace ${result.traceHash}\n`);
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`${args.seeds - failures}/${args.seeds} seeds passed in ${seconds}s\n`);
  if (failures > 0) process.exitCode = 1;
}

await campaign();
