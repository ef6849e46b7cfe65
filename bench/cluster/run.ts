/**
 * Drives one target through every workload and the failover rounds with the same client code,
 * and collects a table cell per row. A target that fails part way keeps the cells it measured
 * and records why it stopped, so that one broken system does not cost the other its column.
 */
import { Prng } from '../../src/util/prng.js';
import { median, percentile } from '../../src/util/stats.js';
import { measureFailovers } from './failover.js';
import type { ClusterTarget } from './target.js';
import { errorMessage } from './wait.js';
import { closedLoop, preload, workloads, type ThroughputResult } from './workloads.js';

export interface BenchConfig {
  readonly runs: number;
  readonly seconds: number;
  readonly failovers: number;
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
] as const;

const failoverMetrics = [
  { suffix: 'p50 ms', percentile: 50 },
  { suffix: 'p99 ms', percentile: 99 },
  { suffix: 'max ms', percentile: 100 },
] as const;

const failoverName = 'failover gap';
/** Fixed so that every target writes the same key sequence. */
const failoverSeed = 1;

/** The rows of the table, in order; cells are keyed by these labels. */
export const rows: readonly Row[] = [
  ...workloads.flatMap((w) => throughputMetrics.map((m) => ({ label: `${w.name}  ${m.suffix}`, digits: m.digits }))),
  ...failoverMetrics.map((m) => ({ label: `${failoverName}  ${m.suffix}`, digits: 0 })),
];

/** Starts the target and measures everything; the caller stops it. */
export async function runTarget(target: ClusterTarget, config: BenchConfig): Promise<TargetReport> {
  const report: TargetReport = { name: target.name, cells: new Map(), notes: [] };
  try {
    await target.start();
    await preload(target);
    for (const workload of workloads) {
      const results: ThroughputResult[] = [];
      for (let run = 0; run < config.runs; run++) {
        const result = await closedLoop(target, workload, config.seconds, run);
        progress(`${target.name}  ${workload.name}  run ${run + 1}/${config.runs}: ${result.opsPerSec.toFixed(0)} ops/s, p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms`);
        results.push(result);
      }
      for (const m of throughputMetrics) report.cells.set(`${workload.name}  ${m.suffix}`, rangeCell(results.map(m.of)));
      const errors = results.reduce((sum, r) => sum + r.errors, 0);
      if (errors > 0) report.notes.push(`${workload.name}: ${errors} failed requests over ${config.runs} runs`);
    }
    const gaps = await measureFailovers(target, config.failovers, new Prng(failoverSeed), (gapMs) =>
      progress(`${target.name}  failover: ${gapMs.toFixed(0)} ms`),
    );
    gaps.sort((a, b) => a - b);
    // With --failovers 0 there is nothing to report: the cells stay empty ('-').
    if (gaps.length > 0) for (const m of failoverMetrics) report.cells.set(`${failoverName}  ${m.suffix}`, { value: percentile(gaps, m.percentile) });
    report.notes.push(`${failoverName}: ${gaps.length} leader kills`);
  } catch (error) {
    report.failure = errorMessage(error);
  }
  return report;
}

/** The median of a metric over the runs, with the range of the runs beside it. */
export function rangeCell(samples: readonly number[]): Cell {
  return { value: median(samples), range: [Math.min(...samples), Math.max(...samples)] };
}

/** Progress goes to stderr so that stdout holds only the table. */
function progress(line: string): void {
  process.stderr.write(`  ${line}\n`);
}
