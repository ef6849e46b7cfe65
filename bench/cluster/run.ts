/**
 * Drives one target through every workload, the failover rounds, the joins and the memory
 * readings with the same client code, and collects a table cell per row. A target that fails
 * part way keeps the cells it measured and records why it stopped, so that one broken system
 * does not cost the other its column.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Prng } from '../../src/util/prng.js';
import { median, percentile } from '../../src/util/stats.js';
import { measureFailovers } from './failover.js';
import { Fill, keysForMib } from './fill.js';
import { measureJoins } from './join.js';
import { nodeRssMib } from './memory.js';
import type { ClusterTarget } from './target.js';
import { errorMessage } from './wait.js';
import { closedLoop, preload, workloads, type ThroughputResult } from './workloads.js';

export interface BenchConfig {
  readonly runs: number;
  readonly seconds: number;
  readonly failovers: number;
  /** MiB of values the cluster holds when a node joins; 0 skips the join workload. */
  readonly joinMib: number;
  /** Fill keys held for the loaded RSS reading (at least the join's); 0 skips it. */
  readonly memoryKeys: number;
}

/** The median of a metric over the runs with its range, or one figure of a distribution (no range). */
export interface Cell {
  readonly value: number;
  readonly range?: readonly [min: number, max: number];
}

export interface Row {
  readonly label: string;
  readonly digits: number;
}

export interface TargetReport {
  readonly name: string;
  readonly cells: Map<string, Cell>;
  /** Failed requests and the like: facts a reader needs beside the figures. */
  readonly notes: string[];
  failure?: string;
}

const throughputMetrics = [
  { suffix: 'ops/s', digits: 0, of: (r: ThroughputResult) => r.opsPerSec },
  { suffix: 'p50 ms', digits: 1, of: (r: ThroughputResult) => r.p50Ms },
  { suffix: 'p99 ms', digits: 1, of: (r: ThroughputResult) => r.p99Ms },
  { suffix: 'CPU us/op, nodes', digits: 0, of: (r: ThroughputResult) => r.nodesCpuUs },
  { suffix: 'CPU us/op, client', digits: 0, of: (r: ThroughputResult) => r.clientCpuUs },
] as const;

const failoverMetrics = [
  { suffix: 'p50 ms', percentile: 50 },
  { suffix: 'p99 ms', percentile: 99 },
  { suffix: 'max ms', percentile: 100 },
] as const;

const failoverName = 'failover gap';
/** Fixed so that every target writes the same key sequence. */
const failoverSeed = 1;

/** Start-up work (loading code, the election, the first heartbeats) is over by then, and no load has begun. */
const idleSettleMs = 1_000;
const rssIdleLabel = 'RSS idle  MiB/node';

function joinLabel(config: BenchConfig): string {
  return `join, ${config.joinMib} MiB held  s to voter`;
}

function rssLoadedLabel(config: BenchConfig): string {
  return `RSS, ${config.memoryKeys} keys  MiB/node`;
}

/** The rows of the table, in order, without those of a skipped workload; cells are keyed by these labels. */
export function tableRows(config: BenchConfig): readonly Row[] {
  return [
    ...workloads.flatMap((w) => throughputMetrics.map((m) => ({ label: `${w.name}  ${m.suffix}`, digits: m.digits }))),
    ...failoverMetrics.map((m) => ({ label: `${failoverName}  ${m.suffix}`, digits: 0 })),
    ...(config.joinMib === 0 ? [] : [{ label: joinLabel(config), digits: 2 }]),
    { label: rssIdleLabel, digits: 0 },
    ...(config.memoryKeys === 0 ? [] : [{ label: rssLoadedLabel(config), digits: 0 }]),
  ];
}

/** Starts the target and measures everything; the caller stops it. */
export function runTarget(target: ClusterTarget, config: BenchConfig): Promise<TargetReport> {
  return measure(target, async (report) => {
    await target.start();
    await sleep(idleSettleMs);
    report.cells.set(rssIdleLabel, rangeCell(await nodeRssMib(target)));
    await preload(target);
    await measureThroughput(target, config, report);
    // The failover rounds SIGKILL nodes, which then write no profile: the profiles end here first.
    await target.flushProfiles();
    await measureFailover(target, config, report);
    const fill = new Fill(target);
    await measureJoin(target, config, fill, report);
    await measureLoadedMemory(target, config, fill, report);
  });
}

/** Starts the target and runs the throughput workloads only (the floor, which has no cluster); the caller stops it. */
export function runThroughput(target: ClusterTarget, config: BenchConfig): Promise<TargetReport> {
  return measure(target, async (report) => {
    await target.start();
    await preload(target);
    await measureThroughput(target, config, report);
  });
}

async function measure(target: ClusterTarget, phases: (report: TargetReport) => Promise<void>): Promise<TargetReport> {
  const report: TargetReport = { name: target.name, cells: new Map(), notes: [] };
  try {
    await phases(report);
  } catch (error) {
    report.failure = errorMessage(error);
  }
  return report;
}

async function measureThroughput(target: ClusterTarget, config: BenchConfig, report: TargetReport): Promise<void> {
  for (const workload of workloads) {
    const results: ThroughputResult[] = [];
    for (let run = 0; run < config.runs; run++) {
      const result = await closedLoop(target, workload, config.seconds, run);
      progress(
        `${target.name}  ${workload.name}  run ${run + 1}/${config.runs}: ${result.opsPerSec.toFixed(0)} ops/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, CPU/op ${result.nodesCpuUs.toFixed(0)} us nodes + ${result.clientCpuUs.toFixed(0)} us client`,
      );
      results.push(result);
    }
    for (const m of throughputMetrics) report.cells.set(`${workload.name}  ${m.suffix}`, rangeCell(results.map(m.of)));
    const errors = results.reduce((sum, r) => sum + r.errors, 0);
    if (errors > 0) report.notes.push(`${workload.name}: ${errors} failed requests over ${config.runs} runs`);
  }
}

async function measureFailover(target: ClusterTarget, config: BenchConfig, report: TargetReport): Promise<void> {
  const gaps = await measureFailovers(target, config.failovers, new Prng(failoverSeed), (gapMs) => progress(`${target.name}  failover: ${gapMs.toFixed(0)} ms`));
  gaps.sort((a, b) => a - b);
  // With --failovers 0 there is nothing to report: the cells stay empty ('-').
  if (gaps.length > 0) for (const m of failoverMetrics) report.cells.set(`${failoverName}  ${m.suffix}`, { value: percentile(gaps, m.percentile) });
  report.notes.push(`${failoverName}: ${gaps.length} leader kills`);
}

async function measureJoin(target: ClusterTarget, config: BenchConfig, fill: Fill, report: TargetReport): Promise<void> {
  if (config.joinMib === 0) return;
  await grow(target, fill, keysForMib(config.joinMib), report);
  const durations = await measureJoins(target, config.runs, (seconds) => progress(`${target.name}  join: ${seconds.toFixed(2)} s to voter`));
  report.cells.set(joinLabel(config), rangeCell(durations));
}

/** The RSS of the three nodes once the fill holds memoryKeys keys (the joined node has left by then). */
async function measureLoadedMemory(target: ClusterTarget, config: BenchConfig, fill: Fill, report: TargetReport): Promise<void> {
  if (config.memoryKeys === 0) return;
  await grow(target, fill, config.memoryKeys, report);
  report.cells.set(rssLoadedLabel(config), rangeCell(await nodeRssMib(target)));
}

async function grow(target: ClusterTarget, fill: Fill, keys: number, report: TargetReport): Promise<void> {
  const from = fill.keys;
  const { seconds, retries } = await fill.growTo(keys);
  if (seconds === 0) return;
  const rate = (keys - from) / seconds;
  const failed = retries === 0 ? '' : `, ${retries} failed writes sent again`;
  progress(`${target.name}  fill: ${keys} keys held, ${rate.toFixed(0)} writes/s${failed}`);
  report.notes.push(`fill: keys ${from + 1}-${keys} written in ${seconds.toFixed(1)} s (${rate.toFixed(0)} writes/s${failed})`);
}

/** The median of a metric over the runs, with the range of the runs beside it. */
export function rangeCell(samples: readonly number[]): Cell {
  return { value: median(samples), range: [Math.min(...samples), Math.max(...samples)] };
}

/** Progress goes to stderr so that stdout holds only the table. */
function progress(line: string): void {
  process.stderr.write(`  ${line}\n`);
}
