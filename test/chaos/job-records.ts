/**
 * What the copies of recording-job.ts wrote, read back: each copy's life (from its start line to
 * its stop line, or, killed with SIGKILL, one tick after its last line: it would have ticked
 * again had it lived longer) and, per job, the instants at which more copies ran than its count.
 */
import { readFile } from 'node:fs/promises';

export interface CopyLife {
  readonly job: string;
  readonly allocation: string;
  /** The node's advertise address. */
  readonly node: string;
  readonly pid: number;
  readonly from: number;
  readonly to: number;
  /** Whether it recorded its stop (SIGTERM); false: killed, or still running at the end. */
  readonly stopped: boolean;
  readonly ticks: readonly number[];
}

/** An instant at which `running` copies of `job` ran, more than its `count`. */
export interface Excess {
  readonly job: string;
  readonly at: number;
  readonly running: number;
  readonly count: number;
  /** The copies running at that instant. */
  readonly allocations: readonly string[];
}

export async function readRecords(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter((line) => line !== '');
}

/**
 * Each copy's life, keyed by pid (a restarted copy is a new life). A copy without a stop line
 * ends at `last tick + tickMs`, never later than `end` if given (the moment everything was
 * known stopped). Lines that do not parse are reported by throwing: the records are the evidence.
 */
export function copyLives(lines: readonly string[], tickMs: number, end?: number): CopyLife[] {
  const lives = new Map<number, { job: string; allocation: string; node: string; pid: number; from: number; stop: number | null; ticks: number[] }>();
  const late: { kind: 'tick' | 'stop'; pid: number; at: number }[] = [];
  for (const line of lines) {
    const fields = line.split(' ');
    const kind = fields[0];
    const at = Number(fields.at(-1));
    const pid = Number(fields.at(-2));
    if (!Number.isFinite(at) || !Number.isInteger(pid)) throw new Error(`unreadable record: ${JSON.stringify(line)}`);
    if (kind === 'start' && fields.length === 6) {
      lives.set(pid, { job: fields[1] ?? '', allocation: fields[2] ?? '', node: fields[3] ?? '', pid, from: at, stop: null, ticks: [] });
    } else if ((kind === 'tick' || kind === 'stop') && fields.length === 4) {
      late.push({ kind, pid, at });
    } else throw new Error(`unreadable record: ${JSON.stringify(line)}`);
  }
  for (const { kind, pid, at } of late) {
    const life = lives.get(pid);
    if (life === undefined) throw new Error(`a ${kind} of pid ${pid} without its start`);
    if (kind === 'tick') life.ticks.push(at);
    else life.stop = at;
  }
  return [...lives.values()].map((life) => {
    const ticks = life.ticks.sort((a, b) => a - b);
    const last = Math.max(life.from, ticks.at(-1) ?? life.from);
    const killed = end === undefined ? last + tickMs : Math.min(end, last + tickMs);
    return { job: life.job, allocation: life.allocation, node: life.node, pid: life.pid, from: life.from, to: life.stop ?? killed, stopped: life.stop !== null, ticks };
  });
}

/**
 * Sweeps each job's lives in time order (interval endpoints) and returns every instant at which
 * more than `counts[job]` of them ran. A copy that stops in the same millisecond another starts
 * is counted as stopped first (a hand-over); any real overlap, even of one millisecond, counts.
 */
export function excessInstants(lives: readonly CopyLife[], counts: Readonly<Record<string, number>>): Excess[] {
  const out: Excess[] = [];
  const jobs = new Set(lives.map((l) => l.job));
  for (const job of jobs) {
    const count = counts[job];
    if (count === undefined) throw new Error(`no count for job ${job}`);
    const points = lives.filter((l) => l.job === job).flatMap((l) => [{ at: l.from, delta: 1, life: l }, { at: l.to, delta: -1, life: l }]);
    points.sort((a, b) => a.at - b.at || a.delta - b.delta);
    const running = new Set<CopyLife>();
    for (const p of points) {
      if (p.delta < 0) {
        running.delete(p.life);
        continue;
      }
      running.add(p.life);
      if (running.size > count) out.push({ job, at: p.at, running: running.size, count, allocations: [...running].map((l) => `${l.allocation}@${l.node} (pid ${l.pid})`) });
    }
  }
  return out;
}

/** The longest time between two consecutive signs of life (start, ticks, stop) of a copy within [from, to]. */
export function longestSilence(life: CopyLife, from: number, to: number): number {
  const signs = [life.from, ...life.ticks, ...(life.stopped ? [life.to] : [])].filter((t) => t >= from && t <= to);
  const edges = [from, ...signs, Math.min(to, life.to)];
  let longest = 0;
  for (let i = 1; i < edges.length; i++) longest = Math.max(longest, (edges[i] ?? 0) - (edges[i - 1] ?? 0));
  return longest;
}
