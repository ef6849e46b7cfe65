/**
 * The crash loop shared by crash.test.ts and this file's command line:
 *
 *   node dist/test/storage/crash-campaign.js --iterations 5000 [--seed N]
 *
 * Each iteration starts crash-child.js on one data directory, SIGKILLs it at a seeded random
 * moment, recovers the directory with DiskStorage in this process and checks the recovered
 * state against what the child acknowledged (verifyRecovery below). The recovered state is the
 * starting point of the next iteration, whose child must load exactly the same state.
 *
 * The seed fixes every decision (the children's seeds, when to kill), but the kill lands at a
 * real moment in a real process, so a replay takes the same decisions without always crashing
 * at the same point. Exit code 1 means a failure, printed with the seed and iteration to replay;
 * the data directory is then kept as the evidence.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PersistedState } from '../../src/node/index.js';
import { DiskStorage, StorageError } from '../../src/storage/index.js';
import { Prng } from '../../src/util/prng.js';
import { childFlags, crashSegmentBytes, entryData, parseChildLine, snapshotData, type ChildEvent, type ChildOptions } from './crash-child.js';

/** The log as the test knows it: what was recovered, then what a child acknowledged on top. */
export interface LogModel {
  readonly snapIndex: number;
  readonly snapTerm: number;
  /** terms[i] is the term of entry snapIndex + 1 + i. */
  readonly terms: readonly number[];
  readonly term: number;
  readonly commit: number;
}

export const emptyLog: LogModel = { snapIndex: 0, snapTerm: 0, terms: [], term: 0, commit: 0 };

/** A broken promise of the storage (or of the child's protocol), with what the test knew. */
export class CrashCheckError extends Error {
  override readonly name = 'CrashCheckError';
}

/** What DiskStorage.open and load() in the test process produced. */
export type Recovered = { readonly state: PersistedState; readonly warnings: readonly string[] } | { readonly failure: unknown };

type Pending = Extract<ChildEvent, { kind: 'begin' | 'snap-begin' | 'compact-begin' | 'commit-begin' }>;

interface Replayed {
  readonly acked: LogModel;
  /** The operation the child had started but not acknowledged when it was killed. */
  readonly pending: Pending | null;
  readonly acks: number;
  readonly snapshots: number;
  readonly overwrites: number;
}

/** What one iteration saw, for the summary. */
export interface IterationReport {
  readonly acks: number;
  readonly snapshots: number;
  readonly overwrites: number;
  /** The unacknowledged batch in flight at the kill made it (wholly or in part) to the disk. */
  readonly inFlightLanded: boolean;
  readonly tornTails: number;
  readonly droppedBytes: number;
  /** The recovered commit index is below the acknowledged one (allowed: commit is relearned). */
  readonly commitRegressed: boolean;
  readonly next: LogModel;
}

function lastOf(log: LogModel): number {
  return log.snapIndex + log.terms.length;
}

function describeLog(log: LogModel): string {
  return `snapshot ${log.snapIndex}@${log.snapTerm}, entries up to ${lastOf(log)}, term ${log.term}, commit ${log.commit}`;
}

function describePending(p: Pending | null): string {
  if (p === null) return 'nothing';
  if (p.kind === 'begin') return `save of entries ${p.first}..${p.last} at term ${p.term} with commit ${p.commit}`;
  if (p.kind === 'commit-begin') return `save of commit ${p.commit} alone, without sync`;
  return p.kind === 'snap-begin' ? `saveSnapshot at ${p.index}@${p.term}` : `compact(${p.index})`;
}

/** Apply the acknowledged operations, in order, to the log the child started from. */
function replayEvents(start: LogModel, events: readonly ChildEvent[]): Replayed {
  let log = start;
  let pending: Pending | null = null;
  let acks = 0;
  let snapshots = 0;
  let overwrites = 0;
  const settle = (kind: string, same: (p: Pending) => boolean): void => {
    if (pending === null || !same(pending)) throw new CrashCheckError(`protocol: ${kind} without its begin line (in flight: ${describePending(pending)})`);
    pending = null;
  };
  for (const e of events) {
    switch (e.kind) {
      case 'start': {
        const loaded = `snapshot ${e.snapIndex}@${e.snapTerm}, entries up to ${e.last}, term ${e.term}, commit ${e.commit}`;
        if (loaded !== describeLog(start)) throw new CrashCheckError(`the child loaded ${loaded}, but the test recovered ${describeLog(start)} from the same directory`);
        break;
      }
      case 'begin':
      case 'snap-begin':
      case 'compact-begin':
      case 'commit-begin':
        if (pending !== null) throw new CrashCheckError(`protocol: ${e.kind} while ${describePending(pending)} is in flight`);
        pending = e;
        break;
      case 'ack':
        settle('ack', (p) => p.kind === 'begin' && p.first === e.first && p.last === e.last && p.term === e.term && p.commit === e.commit);
        if (e.first <= lastOf(log)) overwrites++;
        log = applyBatch(log, e);
        acks++;
        break;
      case 'snap':
        settle('snap', (p) => p.kind === 'snap-begin' && p.index === e.index);
        log = applySnapshot(log, e.index, e.term);
        snapshots++;
        break;
      case 'compact':
        settle('compact', (p) => p.kind === 'compact-begin' && p.index === e.index);
        break;
      case 'commit':
        // Acknowledged but not synced: recovery may find an older commit index (commitRegressed).
        settle('commit', (p) => p.kind === 'commit-begin' && p.commit === e.commit);
        log = { ...log, commit: e.commit };
        break;
      case 'warn':
        throw new CrashCheckError(`the child's recovery warned although the test had just recovered the directory: ${e.message}`);
    }
  }
  return { acked: log, pending, acks, snapshots, overwrites };
}

function applyBatch(log: LogModel, b: { first: number; last: number; term: number; commit: number }): LogModel {
  if (b.first <= log.snapIndex || b.first > lastOf(log) + 1 || b.last < b.first) throw new CrashCheckError(`protocol: batch ${b.first}..${b.last} does not fit the log (${describeLog(log)})`);
  const terms = log.terms.slice(0, b.first - log.snapIndex - 1);
  for (let index = b.first; index <= b.last; index++) terms.push(b.term);
  return { ...log, terms, term: b.term, commit: b.commit };
}

function applySnapshot(log: LogModel, index: number, term: number): LogModel {
  if (index <= log.snapIndex || log.terms[index - log.snapIndex - 1] !== term) throw new CrashCheckError(`protocol: snapshot ${index}@${term} does not fit the log (${describeLog(log)})`);
  return { ...log, snapIndex: index, snapTerm: term, terms: log.terms.slice(index - log.snapIndex) };
}

/** Where the recovered terms (after `base`) first differ from an expected log; null if equal. */
function diffLog(base: number, terms: readonly number[], expected: (index: number) => number | undefined, expectedLast: number): string | null {
  const last = base + terms.length;
  for (let index = base + 1; index <= Math.min(last, expectedLast); index++) {
    const want = expected(index);
    const got = terms[index - base - 1];
    if (want !== got) return `entry ${index} has term ${String(got)}, expected ${String(want)}`;
  }
  if (last < expectedLast) return `the log ends at ${last}: entries ${last + 1}..${expectedLast} are missing`;
  if (last > expectedLast) return `the log ends at ${last}, after the expected ${expectedLast}`;
  return null;
}

/**
 * The recovered entries after the snapshot: contiguous, normal, with the data of (index, term).
 * Entries the snapshot covers may be returned too (PersistedState allows it), but intact.
 */
function checkEntries(state: PersistedState, snapIndex: number): number[] {
  const terms: number[] = [];
  let expectedIndex = state.entries[0]?.index ?? snapIndex + 1;
  if (expectedIndex > snapIndex + 1) throw new CrashCheckError(`the log starts at ${expectedIndex}, leaving a gap after the snapshot at ${snapIndex}`);
  for (const e of state.entries) {
    if (e.index !== expectedIndex) throw new CrashCheckError(`the log is not contiguous: entry ${e.index} where ${expectedIndex} belongs`);
    expectedIndex++;
    if (e.type !== 'normal') throw new CrashCheckError(`entry ${e.index} is a ${e.type} entry; the child writes only normal ones`);
    if (!Buffer.from(e.data).equals(entryData(e.index, e.term))) throw new CrashCheckError(`entry ${e.index}@${e.term} has damaged data (${e.data.byteLength} bytes)`);
    if (e.index > snapIndex) terms.push(e.term);
  }
  return terms;
}

/** The snapshot must be the acknowledged one or the one in flight, with the right contents. */
function checkSnapshot(state: PersistedState, replayed: Replayed): number {
  const { acked, pending } = replayed;
  const meta = state.snapshot?.meta;
  if (meta === undefined) {
    if (acked.snapIndex > 0) throw new CrashCheckError(`the acknowledged snapshot ${acked.snapIndex}@${acked.snapTerm} is gone`);
    return 0;
  }
  const isAcked = meta.index === acked.snapIndex && meta.term === acked.snapTerm;
  const isPending = pending?.kind === 'snap-begin' && meta.index === pending.index && meta.term === pending.term;
  if (!isAcked && !isPending) throw new CrashCheckError(`the recovered snapshot is ${meta.index}@${meta.term}, but the acknowledged one is ${acked.snapIndex}@${acked.snapTerm}`);
  if (state.snapshot !== null && !Buffer.from(state.snapshot.data).equals(snapshotData(meta.index, meta.term))) {
    throw new CrashCheckError(`snapshot ${meta.index}@${meta.term} has damaged data`);
  }
  return meta.index;
}

/**
 * Every entry the recovered commit index covers (after the snapshot) must be one a commit index
 * the child wrote covered: an acknowledged commit, or the in-flight save's commit over the log
 * that save makes. A commit index over a replaced (or never committed) entry would apply it.
 */
function checkCommitted(snapIndex: number, terms: readonly number[], commit: number, acked: LogModel, pending: Pending | null): string | null {
  for (let index = snapIndex + 1; index <= commit; index++) {
    const got = terms[index - snapIndex - 1];
    const ackedTerm = acked.terms[index - acked.snapIndex - 1];
    if (index <= acked.commit) {
      if (got !== ackedTerm) return `committed entry ${index} has term ${String(got)}, the acknowledged one has ${String(ackedTerm)}`;
      continue;
    }
    if (pending?.kind !== 'begin' || index > pending.commit) return `the recovered commit index ${commit} covers entry ${index}, which no commit index written covered`;
    const want = index < pending.first ? ackedTerm : pending.term;
    if (got !== want) return `committed entry ${index} has term ${String(got)}, but the commit written covered term ${String(want)}`;
  }
  return null;
}

/** Torn-tail warnings must say how many bytes went; returns [count, bytes]. */
function checkWarnings(warnings: readonly string[]): [number, number] {
  let bytes = 0;
  for (const warning of warnings) {
    const dropped = /dropped (\d+) bytes/.exec(warning);
    if (dropped === null || Number(dropped[1]) <= 0) throw new CrashCheckError(`a recovery warning does not say how many bytes it dropped: ${warning}`);
    bytes += Number(dropped[1]);
  }
  return [warnings.length, bytes];
}

/**
 * Check the state recovered after a kill against the child's events. The recovered log must be
 * the acknowledged log, or (when a save was in flight) the acknowledged log with a prefix of
 * that batch applied: an in-flight overwrite may legitimately have replaced acknowledged but
 * uncommitted entries. Entries the recovered snapshot covers need not be there.
 */
export function verifyRecovery(start: LogModel, events: readonly ChildEvent[], recovered: Recovered): IterationReport {
  const replayed = replayEvents(start, events);
  const { acked, pending } = replayed;
  const context = `\n  acknowledged: ${describeLog(acked)}\n  in flight: ${describePending(pending)}`;
  try {
    if ('failure' in recovered) {
      const { failure } = recovered;
      throw new CrashCheckError(`recovery failed: ${failure instanceof StorageError ? `${failure.code}: ${failure.message}` : String(failure)}`);
    }
    const { state, warnings } = recovered;
    const snapIndex = checkSnapshot(state, replayed);
    const terms = checkEntries(state, snapIndex);
    const ackedTerm = (index: number): number | undefined => acked.terms[index - acked.snapIndex - 1];
    const asAcked = diffLog(snapIndex, terms, ackedTerm, lastOf(acked));
    let inFlightLanded = false;
    if (asAcked !== null) {
      const recoveredLast = snapIndex + terms.length;
      const landed = pending?.kind === 'begin' && recoveredLast >= pending.first && recoveredLast <= pending.last
        ? diffLog(snapIndex, terms, (i) => (i < pending.first ? ackedTerm(i) : pending.term), recoveredLast)
        : 'no save was in flight that could end the log there';
      if (landed !== null) throw new CrashCheckError(`the recovered log is not the acknowledged one (${asAcked}) nor the acknowledged one plus part of the save in flight (${landed})`);
      inFlightLanded = true;
    }
    const last = snapIndex + terms.length;
    const hs = state.hardState;
    const maxTerm = terms.reduce((max, t) => Math.max(max, t), state.snapshot?.meta.term ?? 0);
    if (hs.commit < snapIndex || hs.commit > last) throw new CrashCheckError(`the recovered commit index ${hs.commit} is outside [snapshot ${snapIndex}, last ${last}]`);
    const committedProblem = checkCommitted(snapIndex, terms, hs.commit, acked, pending);
    if (committedProblem !== null) throw new CrashCheckError(committedProblem);
    if (hs.term < acked.term || hs.term < maxTerm) throw new CrashCheckError(`the recovered term ${hs.term} is below the acknowledged term ${acked.term} or an entry's term ${maxTerm}`);
    if (hs.term > acked.term && !(pending?.kind === 'begin' && pending.term === hs.term)) throw new CrashCheckError(`the recovered term ${hs.term} was never written`);
    if (hs.vote !== null) throw new CrashCheckError(`the recovered vote is ${hs.vote}; the child never votes`);
    const [tornTails, droppedBytes] = checkWarnings(warnings);
    const next: LogModel = { snapIndex, snapTerm: state.snapshot?.meta.term ?? 0, terms, term: hs.term, commit: hs.commit };
    return { ...replayed, inFlightLanded, tornTails, droppedBytes, commitRegressed: hs.commit < acked.commit, next };
  } catch (error) {
    if (error instanceof CrashCheckError) throw new CrashCheckError(`${error.message}${context}`);
    throw error;
  }
}

// -----------------------------------------------------------------------------------------------
// The loop: start a child, kill it, recover, verify.

const childPath = join(import.meta.dirname, 'crash-child.js');
/** Children alive right now, so that an interrupted campaign can still kill them. */
const liveChildren = new Set<ChildProcess>();

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ChildRun {
  readonly pid: number;
  readonly events: readonly ChildEvent[];
  /** True once the child printed a line of this kind; false if it exited or the time ran out. */
  waitFor(kind: 'ready' | 'start', timeoutMs: number): Promise<boolean>;
  /** Let a --wait-for-go child open its directory. */
  go(): void;
  /** Problems with the child's output or stderr, for the failure message. */
  problems(): string[];
  /** SIGKILL the child (if it still runs) and wait until it is gone and its output read. */
  kill(): Promise<ChildExit>;
}

/** Spawn crash-child.js and follow its output; the caller must always kill() it in the end. */
export function startChild(dir: string, seed: number, options: ChildOptions): ChildRun {
  const child = spawn(process.execPath, [childPath, dir, String(seed), ...childFlags(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
  liveChildren.add(child);
  const events: ChildEvent[] = [];
  const problems: string[] = [];
  const waiters: { kind: string; resolve: (seen: boolean) => void }[] = [];
  let partialLine = '';
  let stderr = '';
  let exited = false;
  const closed = new Promise<ChildExit>((resolve) => {
    const done = (exit: ChildExit): void => {
      liveChildren.delete(child);
      exited = true;
      for (const waiter of waiters.splice(0)) waiter.resolve(false);
      if (stderr !== '') problems.push(`child stderr: ${stderr.trim()}`);
      resolve(exit);
    };
    child.on('close', (code, signal) => done({ code, signal }));
    child.on('error', (error) => {
      problems.push(`spawn failed: ${error.message}`);
      done({ code: null, signal: null });
    });
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partialLine + chunk).split('\n');
    // A line without its newline was cut by the kill (pipe writes this small are atomic, so
    // this does not happen in practice); it is ignored like any unprinted line.
    partialLine = lines.pop() ?? '';
    for (const line of lines) {
      try {
        const event = parseChildLine(line);
        events.push(event);
        for (const waiter of waiters.filter((w) => w.kind === event.kind)) waiter.resolve(true);
      } catch (error) {
        problems.push(error instanceof Error ? error.message : String(error));
      }
    }
  });
  return {
    pid: child.pid ?? -1,
    events,
    waitFor: (kind, timeoutMs) => {
      if (events.some((e) => e.kind === kind)) return Promise.resolve(true);
      if (exited) return Promise.resolve(false);
      const seen = new Promise<boolean>((resolve) => waiters.push({ kind, resolve }));
      return Promise.race([seen, sleep(timeoutMs, false, { ref: false })]);
    },
    go: () => child.stdin.write('go\n'),
    problems: () => problems,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return closed;
    },
  };
}

/** While a child holds the directory, opening it must fail, naming the child's pid. */
async function checkLock(dir: string, pid: number): Promise<void> {
  const intruder = await DiskStorage.open({ dir, warn: () => undefined }).catch((error: unknown) => error);
  if (intruder instanceof DiskStorage) {
    await intruder.close();
    throw new CrashCheckError(`the test opened the data directory while child ${pid} was holding it`);
  }
  const namesPid = intruder instanceof Error && new RegExp(`\\b${pid}\\b`).test(intruder.message);
  if (!(intruder instanceof StorageError && intruder.code === 'DataDirLocked' && namesPid)) {
    throw new CrashCheckError(`opening the directory of running child ${pid} should fail with DataDirLocked naming the pid, not: ${String(intruder)}`);
  }
}

/** Open and load the directory as a restarting node would, then release it for the next child. */
async function recover(dir: string): Promise<Recovered> {
  const warnings: string[] = [];
  try {
    const storage = await DiskStorage.open({ dir, segmentBytesMax: crashSegmentBytes, warn: (message) => void warnings.push(message) });
    try {
      return { state: await storage.load(), warnings };
    } finally {
      await storage.close();
    }
  } catch (failure) {
    return { failure };
  }
}

interface LoopContext {
  readonly dir: string;
  readonly child: ChildOptions;
  readonly prng: Prng;
  readonly checkLock: boolean;
  lockChecked: boolean;
}

/** One iteration: run a child from `start`, kill it, recover and verify; returns what it saw. */
async function crashOnce(ctx: LoopContext, start: LogModel): Promise<IterationReport & { readonly earlyKill: boolean }> {
  const seed = ctx.prng.nextU32();
  // Mostly kill while the child writes; sometimes during its start-up and load() instead.
  const early = ctx.prng.chance(0.15) && (ctx.lockChecked || !ctx.checkLock);
  const delayMs = early ? ctx.prng.int(0, 150) : ctx.prng.int(0, 120);
  const child = startChild(ctx.dir, seed, ctx.child);
  let exit: ChildExit;
  try {
    if (!early) {
      if (!(await child.waitFor('start', 30_000))) throw new CrashCheckError(`child ${child.pid} did not load the directory within 30 s (or exited): ${child.problems().join('; ')}`);
      if (ctx.checkLock && !ctx.lockChecked) {
        await checkLock(ctx.dir, child.pid);
        ctx.lockChecked = true;
      }
    }
    await sleep(delayMs);
  } finally {
    // Also when the lock check or the wait failed: no child outlives its iteration.
    exit = await child.kill();
  }
  if (exit.signal !== 'SIGKILL') throw new CrashCheckError(`the child exited on its own (code ${String(exit.code)}, signal ${String(exit.signal)}): ${child.problems().join('; ')}`);
  if (child.problems().length > 0) throw new CrashCheckError(child.problems().join('; '));
  return { ...verifyRecovery(start, child.events, await recover(ctx.dir)), earlyKill: early };
}

export interface CrashStats {
  iterations: number;
  acks: number;
  snapshots: number;
  overwrites: number;
  inFlightLanded: number;
  tornTails: number;
  droppedBytes: number;
  earlyKills: number;
  commitRegressions: number;
  maxLogEntries: number;
  lastIndex: number;
  lockChecked: boolean;
}

export interface CrashLoopOptions {
  readonly iterations: number;
  readonly seed: number;
  /** Check once that a running child's lock keeps the test out. */
  readonly checkLock: boolean;
  readonly child?: ChildOptions;
  /** Leave the data directory in place after a failure, for inspection. */
  readonly keepDirOnFailure?: boolean;
  readonly onProgress?: (stats: CrashStats) => void;
}

/** A failed iteration, with what it takes to replay it. */
export class CrashLoopFailure extends Error {
  override readonly name = 'CrashLoopFailure';
  constructor(
    readonly seed: number,
    readonly iteration: number,
    readonly dir: string,
    cause: unknown,
  ) {
    super(
      `crash iteration ${iteration} (seed ${seed}) failed: ${cause instanceof Error ? cause.message : String(cause)}\n` +
        `  replay: node dist/test/storage/crash-campaign.js --seed ${seed} --iterations ${iteration + 1}` +
        ' (same decisions; the kill lands at a real moment, so a replay may need a few runs)',
      { cause },
    );
  }
}

function addReport(stats: CrashStats, r: IterationReport & { readonly earlyKill: boolean }): void {
  stats.iterations++;
  stats.acks += r.acks;
  stats.snapshots += r.snapshots;
  stats.overwrites += r.overwrites;
  stats.inFlightLanded += r.inFlightLanded ? 1 : 0;
  stats.tornTails += r.tornTails;
  stats.droppedBytes += r.droppedBytes;
  stats.earlyKills += r.earlyKill ? 1 : 0;
  stats.commitRegressions += r.commitRegressed ? 1 : 0;
  stats.maxLogEntries = Math.max(stats.maxLogEntries, r.next.terms.length);
  stats.lastIndex = lastOf(r.next);
}

/** Run the crash loop on a fresh temporary directory, removed at the end. */
export async function runCrashLoop(options: CrashLoopOptions): Promise<CrashStats> {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-crash-'));
  const child = options.child ?? { waitForGo: false };
  const ctx: LoopContext = { dir, child, prng: new Prng(options.seed), checkLock: options.checkLock, lockChecked: false };
  const stats: CrashStats = { iterations: 0, acks: 0, snapshots: 0, overwrites: 0, inFlightLanded: 0, tornTails: 0, droppedBytes: 0, earlyKills: 0, commitRegressions: 0, maxLogEntries: 0, lastIndex: 0, lockChecked: false };
  let model = emptyLog;
  for (let iteration = 0; iteration < options.iterations; iteration++) {
    let report: Awaited<ReturnType<typeof crashOnce>>;
    try {
      report = await crashOnce(ctx, model);
    } catch (error) {
      if (options.keepDirOnFailure !== true) await rm(dir, { recursive: true, force: true });
      throw new CrashLoopFailure(options.seed, iteration, dir, error);
    }
    addReport(stats, report);
    stats.lockChecked = ctx.lockChecked;
    model = report.next;
    options.onProgress?.(stats);
  }
  await rm(dir, { recursive: true, force: true });
  return stats;
}

export function formatStats(s: CrashStats): string {
  return (
    `${s.iterations} kills (${s.earlyKills} during start-up), ${s.acks} acknowledged saves (${s.overwrites} overwrites), ` +
    `${s.snapshots} snapshots, in-flight save found on disk ${s.inFlightLanded} times, ${s.tornTails} torn tails (${s.droppedBytes} bytes dropped), ` +
    `commit index recovered below the acknowledged one ${s.commitRegressions} times, log now ends at ${s.lastIndex} (longest ${s.maxLogEntries} entries after the snapshot)`
  );
}

// -----------------------------------------------------------------------------------------------
// Command line

function parseArgs(args: readonly string[]): { iterations: number; seed: number; child: ChildOptions } | null {
  let iterations = Number.NaN;
  let seed = randomInt(2 ** 31);
  const rest = [...args];
  while (rest.length > 0) {
    const flag = rest.shift();
    const value = Number(rest.shift());
    if (!Number.isSafeInteger(value) || value < 0) return null;
    if (flag === '--iterations') iterations = value;
    else if (flag === '--seed') seed = value;
    else return null;
  }
  return Number.isSafeInteger(iterations) ? { iterations, seed, child: { waitForGo: false } } : null;
}

async function main(args: readonly string[]): Promise<number> {
  // `node --test dist/test` runs every file under test/, this command included: stay quiet there.
  if (args.length === 0 && process.env.NODE_TEST_CONTEXT !== undefined) return 0;
  const parsed = parseArgs(args);
  if (parsed === null) {
    process.stderr.write(`usage: node dist/test/storage/crash-campaign.js --iterations N [--seed N]\n`);
    return 2;
  }
  const killChildren = (): void => {
    for (const child of liveChildren) child.kill('SIGKILL');
    process.exit(130);
  };
  process.on('SIGINT', killChildren).on('SIGTERM', killChildren);
  const began = performance.now();
  const seconds = (): string => ((performance.now() - began) / 1000).toFixed(1);
  console.log(`crash campaign: seed ${parsed.seed}, ${parsed.iterations} iterations`);
  try {
    const stats = await runCrashLoop({
      ...parsed,
      checkLock: true,
      keepDirOnFailure: true,
      onProgress: (s) => {
        if (s.iterations % 100 === 0) console.log(`  ${s.iterations}/${parsed.iterations} in ${seconds()} s: ${s.acks} saves, ${s.snapshots} snapshots, log at ${s.lastIndex}`);
      },
    });
    console.log(`passed in ${seconds()} s: ${formatStats(stats)}`);
    return 0;
  } catch (error) {
    if (!(error instanceof CrashLoopFailure)) throw error;
    console.log(`FAILED after ${seconds()} s\n${error.message}\n  data directory kept: ${error.dir}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === import.meta.filename) process.exitCode = await main(process.argv.slice(2));
