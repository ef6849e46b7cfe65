/**
 * The job the workload tests run, and the analysis of what its copies recorded. Each copy is a
 * small HTTP server (answering with its allocation id) that appends a line to a shared file when
 * it starts and when it stops on SIGTERM; a copy killed with SIGKILL records no stop, so its
 * interval runs until the end of the analysis (which only ever overstates how many ran at once).
 */
import { readFile } from 'node:fs/promises';
import type { JobSpec } from '../../src/state/index.js';

export interface JobEvent {
  readonly id: string;
  readonly index: number;
  readonly event: 'start' | 'stop';
  /** Date.now() in the copy's process (one machine, one clock). */
  readonly at: number;
  readonly pid: number;
}

/** A copy's life: from its start line to its stop line (or `end` when it recorded none). */
export interface Interval {
  readonly id: string;
  readonly index: number;
  readonly from: number;
  readonly to: number;
  readonly pid: number;
}

const script = `
const fs = require('fs');
const id = process.env.QUORATE_ALLOC_ID;
const index = Number(process.env.QUORATE_ALLOC_INDEX);
const record = (event) => fs.appendFileSync(process.env.EVENTS_FILE, JSON.stringify({ id, index, event, at: Date.now(), pid: process.pid }) + '\\n');
record('start');
require('http').createServer((q, r) => r.end(id)).listen(Number(process.env.QUORATE_PORT_HTTP), process.env.QUORATE_NODE_ADDRESS, () => console.log(id + ' serving'));
process.on('SIGTERM', () => { record('stop'); process.exit(0); });
`;

export function recordingJob(name: string, count: number, eventsFile: string): JobSpec {
  return {
    name,
    count,
    command: process.execPath,
    args: ['-e', script],
    env: { EVENTS_FILE: eventsFile },
    workdir: null,
    ports: ['http'],
    stopGraceMs: 2000,
    resources: { memoryMb: 32, cpu: 0.1 },
    restart: { policy: 'always', attempts: 3, delayMs: 200, windowMs: 60_000 },
    constraints: { role: 'worker', labels: {} },
    health: { kind: 'http', port: 'http', path: '/', intervalMs: 100, timeoutMs: 1000 },
    noQuorumPolicy: null,
  };
}

export async function readEvents(path: string): Promise<JobEvent[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as JobEvent);
}

export function intervals(events: readonly JobEvent[], end: number): Interval[] {
  const open = new Map<number, JobEvent>();
  const out: Interval[] = [];
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    if (e.event === 'start') open.set(e.pid, e);
    else {
      const start = open.get(e.pid);
      if (start !== undefined) out.push({ id: e.id, index: e.index, from: start.at, to: e.at, pid: e.pid });
      open.delete(e.pid);
    }
  }
  for (const start of open.values()) out.push({ id: start.id, index: start.index, from: start.at, to: end, pid: start.pid });
  return out;
}

/** The largest number of intervals alive at one instant, and when. */
export function maxConcurrent(all: readonly Interval[]): { readonly count: number; readonly at: number } {
  const points = all.flatMap((i) => [{ at: i.from, delta: 1 }, { at: i.to, delta: -1 }]);
  // At equal times a stop comes before a start: a hand-over in the same millisecond is not an overlap.
  points.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let live = 0;
  let best = { count: 0, at: 0 };
  for (const p of points) {
    live += p.delta;
    if (live > best.count) best = { count: live, at: p.at };
  }
  return best;
}

/** Pairs of lives of the same copy (index) that overlap: the same copy running twice. */
export function sameCopyOverlaps(all: readonly Interval[]): string[] {
  const problems: string[] = [];
  for (const a of all) {
    for (const b of all) {
      if (a.pid < b.pid && a.index === b.index && a.from < b.to && b.from < a.to) problems.push(`copy ${a.index}: ${a.id} (pid ${a.pid}) and ${b.id} (pid ${b.pid}) overlap`);
    }
  }
  return problems;
}
