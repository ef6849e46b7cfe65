/**
 * Progress of long CLI operations (a join catching up, a snapshot arriving, a drain): on a
 * terminal one line rewritten in place, elsewhere (a log file, a CI job, a test) plain lines,
 * at most one per plainIntervalMs so that a long wait does not flood the file. The rate and
 * the ETA come from successive polls over a sliding window, so a burst or a stall a minute ago
 * does not skew them.
 */

/** What the progress is written to: standard output by default. */
export interface ProgressOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** A plain (non-terminal) progress line at most this often, unless the operation ends. */
export const plainIntervalMs = 2_000;

export class ProgressLine {
  private shown = '';
  /** Whether the terminal's cursor sits at the end of a progress line. */
  private open = false;
  private lastPlainAt = -Infinity;

  constructor(
    private readonly out: ProgressOutput = process.stdout,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Show `text` as the current state (unchanged text is not written again). */
  update(text: string): void {
    if (text === this.shown) return;
    if (this.out.isTTY === true) {
      // Back to the line's start, the new text, then clear what a longer old text left behind.
      this.out.write(`\r${text}\x1b[K`);
      this.open = true;
      this.shown = text;
      return;
    }
    const at = this.now();
    if (at - this.lastPlainAt < plainIntervalMs) return;
    this.lastPlainAt = at;
    this.shown = text;
    this.out.write(`${text}\n`);
  }

  /** The last line: always written, and what follows starts on a line of its own. */
  finish(text: string): void {
    if (this.out.isTTY === true) this.out.write(`\r${text}\x1b[K\n`);
    else if (text !== this.shown) this.out.write(`${text}\n`);
    this.open = false;
    this.shown = '';
  }

  /** Leave the rewritten line as it is and move below it (before other output). */
  end(): void {
    if (this.open) this.out.write('\n');
    this.open = false;
    this.shown = '';
  }
}

interface Sample {
  readonly atMs: number;
  readonly done: number;
  readonly total: number;
}

/**
 * How fast `done` approaches `total` (both may grow: a cluster keeps writing while a learner
 * catches up), from the samples of the last windowMs.
 */
export class RateMeter {
  private samples: Sample[] = [];

  constructor(private readonly windowMs = 10_000) {}

  add(atMs: number, done: number, total: number): void {
    const last = this.samples.at(-1);
    // Going backwards means a new run (a snapshot stream that started again): measure afresh.
    if (last !== undefined && done < last.done) this.samples = [];
    this.samples.push({ atMs, done, total });
    while (this.samples.length > 2 && atMs - (this.samples[1]?.atMs ?? atMs) >= this.windowMs) this.samples.shift();
  }

  /** `done` per second over the window; null until two samples some time apart. */
  perSecond(): number | null {
    const span = this.span();
    return span === null ? null : (span.done / span.ms) * 1000;
  }

  /** Milliseconds until done reaches total at the current closing speed; null when it is not closing. */
  etaMs(): number | null {
    const span = this.span();
    const last = this.samples.at(-1);
    if (span === null || last === undefined) return null;
    if (last.done >= last.total) return 0;
    const closingPerMs = (span.done - span.total) / span.ms;
    return closingPerMs > 0 ? (last.total - last.done) / closingPerMs : null;
  }

  private span(): { readonly ms: number; readonly done: number; readonly total: number } | null {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (first === undefined || last === undefined || last.atMs <= first.atMs) return null;
    return { ms: last.atMs - first.atMs, done: last.done - first.done, total: last.total - first.total };
  }
}

/** `ETA 45s`, `ETA 3m 05s`, `ETA 1h 02m`; `ETA ?` while unknown. */
export function formatEta(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return 'ETA ?';
  const s = Math.ceil(ms / 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  if (s < 60) return `ETA ${s}s`;
  if (s < 3600) return `ETA ${Math.floor(s / 60)}m ${two(s % 60)}s`;
  return `ETA ${Math.floor(s / 3600)}h ${two(Math.floor(s / 60) % 60)}m`;
}

const byteUnits = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `512 B`, `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < byteUnits.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} ${byteUnits[0]}` : `${value.toFixed(1)} ${byteUnits[unit] ?? ''}`;
}
