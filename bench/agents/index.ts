/**
 * `npm run bench -- agents`: what 500 agents heartbeating cost a 3-node cluster (issue 7). The
 * cluster is formed with `cluster init` and `cluster join` on 127.0.77.1-3 (agents need its
 * mutual TLS) and driven by the same client code as the cluster bench. 500 simulated agents
 * (sim-agents.ts) register through the real agent's client, then each round measures an idle
 * window and closed-loop 256-byte KV writes twice: with the agents heartbeating every second,
 * and with them paused (still registered), in alternating order. Reported per window, as the
 * median [min-max] over the rounds: the leader's CPU and the followers' (their processes, from
 * /proc), the entries committed per second (heartbeats stay out of the log: only a registration
 * or a status change commits), the heartbeats answered per second and their latency, the write
 * throughput and latency, and the ratio agents/no agents. Writes must stay within 2x of the
 * no-agent latency (p50 and p99); the exit code is 1 when they do not.
 *
 *   npm run bench -- agents                              3 runs of 5 s, 500 agents, 16 and 64 writers
 *   npm run bench -- agents --agents 1000 --clients 16 --runs 5 --seconds 10
 */
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { defaultAgentHeartbeatMs } from '../../src/workload/start-agent.js';
import { rangeCell, type Row, type TargetReport } from '../cluster/run.js';
import { formatTable } from '../cluster/table.js';
import { errorMessage, retryUntil } from '../cluster/wait.js';
import { closedLoop, preload, valueBytes, type ThroughputResult, type Workload } from '../cluster/workloads.js';
import { DataDirCluster } from './data-dir-cluster.js';
import { SimAgents } from './sim-agents.js';
import { measureWindow, type WindowStats } from './window.js';

const hosts = ['127.0.77.1', '127.0.77.2', '127.0.77.3'] as const;
const agentAddress = '127.0.77.100';
/** Every registration is a log entry; 500 of them take a few seconds on a loaded 2-core machine. */
const registerTimeoutMs = 120_000;
const latencyRatioMax = 2;
/** Two heartbeat intervals. */
const resumeSettleMs = 2 * defaultAgentHeartbeatMs;
const columns = ['agents', 'no agents'] as const;

interface AgentsConfig {
  readonly runs: number;
  readonly seconds: number;
  readonly agents: number;
  readonly clients: readonly number[];
}

/** A window kind: nothing running (the cost of the agents alone), or a write workload. */
interface WindowKind {
  readonly name: string;
  readonly workload: Workload | null;
}

interface Sample {
  readonly kv: ThroughputResult | null;
  readonly window: WindowStats;
}

const metrics: readonly { readonly suffix: string; readonly digits: number; readonly of: (s: Sample) => number | undefined }[] = [
  { suffix: 'ops/s', digits: 0, of: (s) => s.kv?.opsPerSec },
  { suffix: 'p50 ms', digits: 1, of: (s) => s.kv?.p50Ms },
  { suffix: 'p99 ms', digits: 1, of: (s) => s.kv?.p99Ms },
  { suffix: 'leader CPU %', digits: 0, of: (s) => s.window.leaderCpuPercent },
  { suffix: 'followers CPU %', digits: 0, of: (s) => s.window.followersCpuPercent },
  { suffix: 'commits/s', digits: 1, of: (s) => s.window.commitsPerSec },
  { suffix: 'heartbeats/s', digits: 0, of: (s) => s.window.heartbeats?.answeredPerSec },
  { suffix: 'heartbeat p50 ms', digits: 1, of: (s) => s.window.heartbeats?.p50Ms },
  { suffix: 'heartbeat p99 ms', digits: 1, of: (s) => s.window.heartbeats?.p99Ms },
  { suffix: 'bench CPU %', digits: 0, of: (s) => s.window.benchCpuPercent },
];

/** Runs the benchmark with the arguments after `agents`; resolves with the process exit code. */
export async function benchAgents(argv: readonly string[]): Promise<number> {
  const config = parseConfig(argv);
  if (typeof config === 'string') {
    process.stderr.write(`bench agents: ${config}\n`);
    return 2;
  }
  const kinds: WindowKind[] = [
    { name: 'idle', workload: null },
    ...config.clients.map((clients) => ({ name: `write, ${clients} clients`, workload: { name: `write, ${clients} clients`, clients, operation: 'write' as const } })),
  ];
  process.stdout.write(
    `\nAgents: 3 nodes made by cluster init/join on ${hosts.join(', ')} (${cpus().length} cores, shared with the client and the agents), ` +
      `${config.agents} simulated agents heartbeating every ${defaultAgentHeartbeatMs} ms; ${valueBytes}-byte writes; ` +
      `median [min-max] of ${config.runs} runs of ${config.seconds}s, with and without agents alternately; ratio = agents/no agents\n`,
  );
  const cluster = new DataDirCluster(hosts);
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\nbench agents: ${signal}, stopping the nodes\n`);
    void cluster.stop().finally(() => process.exit(130));
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.once(signal, onSignal);
  try {
    await cluster.start();
    await preload(cluster);
    const agents = await SimAgents.create({ count: config.agents, ca: await cluster.ca(), servers: cluster.apiAddresses, address: agentAddress, intervalMs: defaultAgentHeartbeatMs });
    try {
      const registration = await register(cluster, agents, config.agents);
      await agents.pause();
      return report(await measureAlternately(cluster, agents, kinds, config), kinds, registration);
    } finally {
      await agents.stop();
    }
  } catch (error) {
    process.stdout.write(`bench agents: FAILED: ${errorMessage(error)}\n`);
    return 1;
  } finally {
    await cluster.stop();
    for (const signal of signals) process.off(signal, onSignal);
  }
}

/** Starts the agents and waits until each has been answered once, which registers it through the log. */
async function register(cluster: DataDirCluster, agents: SimAgents, count: number): Promise<string> {
  const { stats } = await measureWindow(cluster, agents, async () => {
    agents.start();
    await retryUntil(`all ${count} agents registered`, registerTimeoutMs, () =>
      agents.registered === count ? Promise.resolve() : Promise.reject(new Error(`${agents.registered} registered so far`)),
    );
  });
  const committed = Math.round(stats.commitsPerSec * stats.seconds);
  const errors = stats.heartbeats?.errors ?? 0;
  const line = `registration: ${count} agents answered within ${stats.seconds.toFixed(1)} s, ${committed} entries committed, leader CPU ${stats.leaderCpuPercent.toFixed(0)}%`;
  progress(line);
  return `${line}, ${errors} failed heartbeats${errors === 0 ? '' : ` (first: ${stats.heartbeats?.firstError ?? ''})`}`;
}

/**
 * Every round measures each window once without the agents and once with them, the order
 * swapped each round, so that a change in the machine's other load weighs on both columns
 * alike. The agents are registered throughout; without them they are only paused.
 */
async function measureAlternately(cluster: DataDirCluster, agents: SimAgents, kinds: readonly WindowKind[], config: AgentsConfig): Promise<TargetReport[]> {
  const samples = new Map(columns.map((column) => [column, new Map(kinds.map((kind) => [kind.name, [] as Sample[]]))]));
  for (let run = 0; run < config.runs; run++) {
    for (const column of run % 2 === 0 ? [...columns].reverse() : columns) {
      const running = column === 'agents' ? agents : null;
      if (running !== null) {
        running.start();
        // Paused agents' connections have closed: let every one reconnect and beat once first.
        await sleep(resumeSettleMs);
      }
      for (const kind of kinds) {
        const { workload } = kind;
        const { result, stats } = await measureWindow(cluster, running, () =>
          workload === null ? sleep(config.seconds * 1000, null) : closedLoop(cluster, workload, config.seconds, run),
        );
        const sample = { kv: result, window: stats };
        samples.get(column)?.get(kind.name)?.push(sample);
        progress(`${column}  ${kind.name}  run ${run + 1}/${config.runs}: ${metrics.map((m) => `${m.suffix} ${m.of(sample)?.toFixed(m.digits) ?? '-'}`).join(', ')}`);
      }
      await running?.pause();
    }
  }
  return columns.map((column) => summarize(column, kinds, samples.get(column) ?? new Map<string, Sample[]>()));
}

/** One column of the table: the median [min-max] of each metric, and notes on errors and leader changes. */
function summarize(name: string, kinds: readonly WindowKind[], samples: ReadonlyMap<string, readonly Sample[]>): TargetReport {
  const column: TargetReport = { name, cells: new Map(), notes: [] };
  for (const kind of kinds) {
    const runs = samples.get(kind.name) ?? [];
    for (const metric of metrics) {
      const values = runs.flatMap((s) => metric.of(s) ?? []);
      if (values.length > 0 && values.length === runs.length) column.cells.set(label(kind, metric), rangeCell(values));
    }
    const kvErrors = runs.reduce((sum, s) => sum + (s.kv?.errors ?? 0), 0);
    if (kvErrors > 0) column.notes.push(`${kind.name}: ${kvErrors} failed writes over ${runs.length} runs`);
    const heartbeatErrors = runs.reduce((sum, s) => sum + (s.window.heartbeats?.errors ?? 0), 0);
    const firstError = runs.find((s) => s.window.heartbeats?.firstError != null)?.window.heartbeats?.firstError;
    if (heartbeatErrors > 0) column.notes.push(`${kind.name}: ${heartbeatErrors} failed heartbeats over ${runs.length} runs (first: ${firstError ?? ''})`);
    for (const [run, s] of runs.entries()) if (s.window.leaderChange !== null) column.notes.push(`${kind.name} run ${run + 1}: the leader changed (${s.window.leaderChange})`);
  }
  return column;
}

/** Prints the table and the verdict; 1 when writes with agents are over latencyRatioMax times slower. */
function report(reports: readonly TargetReport[], kinds: readonly WindowKind[], registration: string): number {
  // Rows no column has a figure for (write latency of an idle window) are left out.
  const rows: Row[] = kinds.flatMap((kind) => metrics.map((m) => ({ label: label(kind, m), digits: m.digits }))).filter((row) => reports.some((r) => r.cells.has(row.label)));
  process.stdout.write(`\n${formatTable(rows, columns, [], reports)}\n\n${registration}\n`);
  for (const r of reports) for (const note of r.notes) process.stdout.write(`${r.name}: ${note}\n`);
  let within = true;
  for (const kind of kinds.filter((k) => k.workload !== null)) {
    for (const suffix of ['p50 ms', 'p99 ms']) {
      const [withAgents, without] = reports.map((r) => r.cells.get(`${kind.name}  ${suffix}`)?.value);
      if (withAgents === undefined || without === undefined) continue;
      const ratio = withAgents / without;
      within &&= ratio <= latencyRatioMax;
      process.stdout.write(`${kind.name}  ${suffix}: agents/no agents = ${ratio.toFixed(2)} (${ratio <= latencyRatioMax ? 'within' : 'OVER'} ${latencyRatioMax}x)\n`);
    }
  }
  return within ? 0 : 1;
}

function label(kind: WindowKind, metric: { readonly suffix: string }): string {
  return `${kind.name}  ${metric.suffix}`;
}

/** Progress goes to stderr so that stdout holds only the table. */
function progress(line: string): void {
  process.stderr.write(`  ${line}\n`);
}

function parseConfig(argv: readonly string[]): AgentsConfig | string {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        runs: { type: 'string', default: '3' },
        seconds: { type: 'string', default: '5' },
        agents: { type: 'string', default: '500' },
        clients: { type: 'string', default: '16,64' },
      },
    }));
  } catch (error) {
    return errorMessage(error);
  }
  const config = { runs: Number(values.runs), seconds: Number(values.seconds), agents: Number(values.agents), clients: values.clients.split(',').map(Number) };
  const positiveInteger = (n: number): boolean => Number.isInteger(n) && n >= 1;
  if (!(positiveInteger(config.runs) && config.seconds > 0 && positiveInteger(config.agents) && config.clients.every(positiveInteger))) {
    return '--runs and --agents must be integers >= 1, --seconds positive, --clients integers >= 1, comma-separated';
  }
  return config;
}
