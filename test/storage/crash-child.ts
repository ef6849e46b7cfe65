/**
 * The writer process of the crash test (crash.test.ts, crash-campaign.ts):
 *
 *   node dist/test/storage/crash-child.js <dir> <seed> [--wait-for-go]
 *
 * It opens DiskStorage on <dir>, loads it, and then appends batches of entries forever, the way
 * a Raft node's driver persists Readys: mostly appends in the current term, sometimes a new term
 * (a new leader), sometimes a follower overwriting an uncommitted suffix with a higher term, and
 * sometimes a local snapshot followed by compaction. The parent SIGKILLs it at a random moment.
 *
 * The child reports on stdout, one line per event, so the parent knows exactly what was in
 * flight and what was acknowledged: an operation's intent line is printed before it starts and
 * its acknowledgement only after its promise resolved (after the fdatasync). Stdout is a pipe,
 * which Node writes synchronously on Linux, so a printed acknowledgement survives the SIGKILL.
 *
 *   start <snapIndex> <snapTerm> <lastIndex> <term> <commit>   what load() returned
 *   begin <first> <last> <term> <commit>   /  ack <first> <last> <term> <commit>
 *   snap-begin <index> <term>              /  snap <index> <term>
 *   compact-begin <index>                  /  compact <index>
 *   ready                                   waiting for "go" on stdin (--wait-for-go only)
 *   warn <message>                          a recovery warning (never expected here: the parent
 *                                           recovers the directory before starting a child)
 *
 * Entry and snapshot contents are pure functions of (index, term), so the parent can check any
 * recovered byte without being told the data. This module also exports those functions and the
 * line parser, which the parent side shares.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { Entry } from '../../src/raft/index.js';
import { DiskStorage } from '../../src/storage/index.js';
import { Prng } from '../../src/util/prng.js';

/** Small segments, so that rotation and compaction happen every few batches. */
export const crashSegmentBytes = 64 * 1024;
const entryBytesMax = 2000;
const batchEntriesMax = 64;

/** The data of entry (index, term): 1 to 2000 pseudo-random bytes seeded by a hash of both. */
export function entryData(index: number, term: number): Uint8Array {
  const digest = createHash('sha256').update(`${index}:${term}`).digest();
  const length = 1 + (digest.readUInt32LE(0) % entryBytesMax);
  // xorshift32 words, cheap enough that checking every recovered entry costs little.
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = digest.readUInt32LE(4) | 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return new Uint8Array(words.buffer, 0, length);
}

/** The state machine image of a snapshot at (index, term). */
export function snapshotData(index: number, term: number): Uint8Array {
  return new TextEncoder().encode(`crash-test state machine at ${index}:${term}`);
}

interface Batch {
  readonly first: number;
  readonly last: number;
  readonly term: number;
  readonly commit: number;
}

export type ChildEvent =
  | { readonly kind: 'start'; readonly snapIndex: number; readonly snapTerm: number; readonly last: number; readonly term: number; readonly commit: number }
  | ({ readonly kind: 'begin' } & Batch)
  | ({ readonly kind: 'ack' } & Batch)
  | { readonly kind: 'snap-begin'; readonly index: number; readonly term: number }
  | { readonly kind: 'snap'; readonly index: number; readonly term: number }
  | { readonly kind: 'compact-begin'; readonly index: number }
  | { readonly kind: 'compact'; readonly index: number }
  | { readonly kind: 'commit-begin'; readonly commit: number }
  | { readonly kind: 'commit'; readonly commit: number }
  | { readonly kind: 'warn'; readonly message: string }
  | { readonly kind: 'ready' };

/** Parse one line of the child's output; throws on anything the protocol does not contain. */
export function parseChildLine(line: string): ChildEvent {
  const [kind = '', ...rest] = line.split(' ');
  if (kind === 'warn') return { kind, message: rest.join(' ') };
  if (kind === 'ready' && rest.length === 0) return { kind };
  const n = rest.map((word) => Number(word));
  if (n.some((value) => !Number.isSafeInteger(value) || value < 0)) throw new Error(`bad numbers in child line: ${line}`);
  const arity: Record<string, number> = { start: 5, begin: 4, ack: 4, 'snap-begin': 2, snap: 2, 'compact-begin': 1, compact: 1, 'commit-begin': 1, commit: 1 };
  if (arity[kind] !== n.length) throw new Error(`unknown child line: ${line}`);
  const [a = 0, b = 0, c = 0, d = 0, e = 0] = n;
  switch (kind) {
    case 'start':
      return { kind, snapIndex: a, snapTerm: b, last: c, term: d, commit: e };
    case 'begin':
    case 'ack':
      return { kind, first: a, last: b, term: c, commit: d };
    case 'snap-begin':
    case 'snap':
      return { kind, index: a, term: b };
    case 'commit-begin':
    case 'commit':
      return { kind, commit: a };
    default:
      return { kind: kind === 'compact' ? 'compact' : 'compact-begin', index: a };
  }
}

export interface ChildOptions {
  /**
   * Print `ready` and wait for a line on stdin before opening the directory, so that the parent
   * can let two children race for the lock at the same instant.
   */
  readonly waitForGo: boolean;
}

export const waitForGoFlag = '--wait-for-go';

export function childFlags(options: ChildOptions): string[] {
  return options.waitForGo ? [waitForGoFlag] : [];
}

/** What the writer knows about its log: enough to choose the next operation. */
interface WriterState {
  snapIndex: number;
  /** terms[i] is the term of entry snapIndex + 1 + i. */
  terms: number[];
  term: number;
  commit: number;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function lastIndex(s: WriterState): number {
  return s.snapIndex + s.terms.length;
}

function termAt(s: WriterState, index: number): number {
  const term = s.terms[index - s.snapIndex - 1];
  if (term === undefined) throw new Error(`crash-child: no entry ${index} in its own log`);
  return term;
}

/** One batch: an append, a new leader's append, or an overwrite of an uncommitted suffix. */
async function writeBatch(storage: DiskStorage, s: WriterState, prng: Prng): Promise<void> {
  const last = lastIndex(s);
  let first = last + 1;
  const roll = prng.next();
  if (roll < 0.1 && last > s.commit) {
    // A follower replacing an old leader's uncommitted entries: never at or below the commit.
    first = Math.max(s.commit + 1, last - prng.int(0, 12));
    s.term += prng.int(1, 3);
  } else if (roll < 0.14 || s.term === 0) {
    s.term += 1;
  }
  const count = prng.int(1, batchEntriesMax + 1);
  const newLast = first + count - 1;
  // As in Raft, commit may move into the entries of this very batch (min(leaderCommit, last new)),
  // also in the batch that starts a new term (a follower's first append from a new leader).
  const commit = prng.chance(0.7) ? prng.int(s.commit, newLast + 1) : s.commit;
  const entries: Entry[] = [];
  for (let index = first; index <= newLast; index++) entries.push({ type: 'normal', index, term: s.term, data: entryData(index, s.term) });
  const fields = `${first} ${newLast} ${s.term} ${commit}`;
  say(`begin ${fields}`);
  await storage.save({ hardState: { term: s.term, vote: null, commit }, entries, snapshot: null, sync: true });
  say(`ack ${fields}`);
  s.terms.length = first - s.snapIndex - 1;
  for (let index = first; index <= newLast; index++) s.terms.push(s.term);
  s.commit = commit;
}

/**
 * The commit index moving on with no new entries, as the core reports it (without a sync):
 * storage may hold it back and write it with the next save, so a kill may lose it.
 */
async function advanceCommit(storage: DiskStorage, s: WriterState, prng: Prng): Promise<void> {
  const commit = prng.int(s.commit + 1, lastIndex(s) + 1);
  say(`commit-begin ${commit}`);
  await storage.save({ hardState: { term: s.term, vote: null, commit }, entries: [], snapshot: null, sync: false });
  say(`commit ${commit}`);
  s.commit = commit;
}

/** A local snapshot at a committed index, then compaction a little below it. */
async function snapshotAndCompact(storage: DiskStorage, s: WriterState, prng: Prng): Promise<void> {
  // Mostly near the commit index, so that the log (and each recovery) stays a few MB.
  const index = prng.int(Math.max(s.snapIndex + 1, s.commit - 200), s.commit + 1);
  const term = termAt(s, index);
  say(`snap-begin ${index} ${term}`);
  await storage.saveSnapshot({ meta: { index, term, conf: { voters: ['n1'], learners: [] } }, data: snapshotData(index, term) });
  say(`snap ${index} ${term}`);
  s.terms = s.terms.slice(index - s.snapIndex);
  s.snapIndex = index;
  // Keep a few entries before the snapshot, as a leader does for slow followers.
  const compactTo = index - prng.int(0, Math.min(index, 40) + 1);
  say(`compact-begin ${compactTo}`);
  await storage.compact(compactTo);
  say(`compact ${compactTo}`);
}

async function runChild(dir: string, seed: number, options: ChildOptions): Promise<never> {
  if (options.waitForGo) {
    say('ready');
    await new Promise((resolve) => process.stdin.once('data', resolve));
  }
  const storage = await DiskStorage.open({ dir, segmentBytesMax: crashSegmentBytes, warn: (message) => say(`warn ${message.replace(/\n/g, ' ')}`) });
  const loaded = await storage.load();
  const snapIndex = loaded.snapshot?.meta.index ?? 0;
  const snapTerm = loaded.snapshot?.meta.term ?? 0;
  const entries = loaded.entries.filter((e) => e.index > snapIndex);
  const terms = entries.map((e) => e.term);
  const term = terms.reduce((max, t) => Math.max(max, t), Math.max(loaded.hardState.term, snapTerm));
  const s: WriterState = { snapIndex, terms, term, commit: loaded.hardState.commit };
  say(`start ${snapIndex} ${snapTerm} ${lastIndex(s)} ${s.term} ${s.commit}`);
  const prng = new Prng(seed);
  for (;;) {
    if (prng.chance(0.08) && s.commit > s.snapIndex) await snapshotAndCompact(storage, s, prng);
    else if (prng.chance(0.1) && lastIndex(s) > s.commit) await advanceCommit(storage, s, prng);
    else await writeBatch(storage, s, prng);
  }
}

function main(args: readonly string[]): void {
  const [dir, seedText, ...flags] = args;
  const seed = Number(seedText);
  const options: ChildOptions = { waitForGo: flags.includes(waitForGoFlag) };
  if (dir === undefined || !Number.isSafeInteger(seed) || flags.length !== childFlags(options).length) {
    // `node --test dist/test` runs every file under test/, this helper included: stay quiet there.
    if (process.env.NODE_TEST_CONTEXT !== undefined) return;
    process.stderr.write(`usage: node dist/test/storage/crash-child.js <dir> <seed> [${waitForGoFlag}]\n`);
    process.exit(2);
  }
  runChild(dir, seed, options).catch((error: unknown) => {
    process.stderr.write(`crash-child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === import.meta.filename) main(process.argv.slice(2));
