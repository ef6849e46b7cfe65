// Shared helpers for the per-section Raft tests in this directory (not a test file itself).
// Two styles of test use them: precise unit tests that build one `Raft` with a hand-made log
// and step hand-made messages into it (newRaft, drain, campaignDirect), and scenario tests on
// the synchronous TestNetwork from ../harness.ts, sometimes started from hand-made logs
// (customNetwork) so that a test can set up conflicting histories without long choreography.
import assert from 'node:assert/strict';
import { Prng } from '../../../src/util/prng.js';
import {
  Raft,
  RaftError,
  message,
  type Entry,
  type Message,
  type NodeId,
  type RaftConfig,
  type RaftErrorCode,
  type ReadState,
  type Snapshot,
} from '../../../src/raft/index.js';
import { TestNetwork, text } from '../harness.js';

export { TestNetwork, text, message };

const encoder = new TextEncoder();

/** A normal entry; the payload defaults to a name derived from the position. */
export function ent(index: number, term: number, data = `e${index}t${term}`): Entry {
  return { type: 'normal', index, term, data: encoder.encode(data) };
}

/** Entries at consecutive indexes starting at `first`, with the given terms. */
export function entsWithTerms(first: number, terms: readonly number[]): Entry[] {
  return terms.map((term, i) => ent(first + i, term));
}

export function bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** The bootstrap snapshot the harness uses: index 1, term 1, with the given configuration. */
export function bootSnapshot(voters: readonly NodeId[], learners: readonly NodeId[] = []): Snapshot {
  return { meta: { index: 1, term: 1, conf: { voters: [...voters], learners: [...learners] } }, data: new Uint8Array() };
}

export interface RaftSpec {
  readonly id: NodeId;
  readonly voters: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  readonly term?: number;
  readonly vote?: NodeId | null;
  readonly commit?: number;
  /** Entries after the bootstrap snapshot (index 2 onwards). */
  readonly entries?: readonly Entry[];
  readonly config?: Partial<RaftConfig>;
  readonly seed?: number;
}

/** A core restored from the bootstrap snapshot plus `entries`, as if read from disk. */
export function newRaft(spec: RaftSpec): Raft {
  return new Raft({
    id: spec.id,
    prng: new Prng(spec.seed ?? 1),
    config: spec.config ?? {},
    hardState: { term: spec.term ?? 1, vote: spec.vote ?? null, commit: spec.commit ?? 1 },
    snapshot: bootSnapshot(spec.voters, spec.learners ?? []),
    entries: spec.entries ?? [],
  });
}

export interface Drained {
  readonly messages: Message[];
  readonly committed: Entry[];
  readonly entries: Entry[];
  readonly readStates: ReadState[];
  readonly snapshots: Snapshot[];
}

/** Process every Ready of one core (instant persistence) and return what it produced. */
export function drain(raft: Raft): Drained {
  const out: Drained = { messages: [], committed: [], entries: [], readStates: [], snapshots: [] };
  for (let i = 0; i < 1000 && raft.hasReady(); i++) {
    const rd = raft.ready();
    out.messages.push(...rd.messages);
    out.committed.push(...rd.committedEntries);
    out.entries.push(...rd.entries);
    out.readStates.push(...rd.readStates);
    if (rd.snapshot !== null) out.snapshots.push(rd.snapshot);
    raft.advance();
  }
  return out;
}

/** Tick a lone core until it emits a message of one of `types`; returns the ticks and the messages. */
export function tickUntil(raft: Raft, types: readonly Message['type'][], max = 1000): { ticks: number; messages: Message[] } {
  for (let ticks = 1; ticks <= max; ticks++) {
    raft.tick();
    const { messages } = drain(raft);
    if (messages.some((m) => types.includes(m.type))) return { ticks, messages };
  }
  throw new Error(`no ${types.join('/')} within ${max} ticks`);
}

/**
 * Make a directly driven core leader: tick until it asks for (pre-)votes, then step granted
 * answers from `grantors`. Works with PreVote on or off. Returns the leader's first messages.
 */
export function campaignDirect(raft: Raft, grantors: readonly NodeId[]): Message[] {
  let pending = tickUntil(raft, ['MsgPreVote', 'MsgVote']).messages;
  for (let round = 0; round < 3 && raft.basicStatus().role !== 'leader'; round++) {
    const request = pending.find((m) => m.type === 'MsgPreVote' || m.type === 'MsgVote');
    assert.ok(request !== undefined, 'expected a vote request');
    const respType = request.type === 'MsgPreVote' ? 'MsgPreVoteResp' : 'MsgVoteResp';
    for (const from of grantors) raft.step(message({ type: respType, from, to: raft.id, term: request.term }));
    pending = drain(raft).messages;
  }
  assert.equal(raft.basicStatus().role, 'leader');
  return pending;
}

export interface NodeSpec {
  readonly id: NodeId;
  readonly term: number;
  readonly commit?: number;
  readonly entries?: readonly Entry[];
  readonly vote?: NodeId | null;
}

/** A TestNetwork whose nodes start from hand-made logs (all share the bootstrap snapshot). */
export function customNetwork(voters: readonly NodeId[], nodes: readonly NodeSpec[], config: Partial<RaftConfig> = {}): TestNetwork {
  const net = new TestNetwork([], config);
  nodes.forEach((spec, i) => {
    net.add(spec.id, newRaft({ id: spec.id, voters, term: spec.term, vote: spec.vote ?? null, commit: spec.commit ?? 1, entries: spec.entries ?? [], config, seed: 1 + i }));
  });
  return net;
}

/** The texts of a node's log from index 2 (the first after the bootstrap snapshot) to its end. */
export function logTexts(raft: Raft, from = 2): string[] {
  return raft.entries(from, raft.basicStatus().lastIndex + 1).map(text);
}

/** Index/term pairs of a node's log from `from` to its end, for comparing logs. */
export function logShape(raft: Raft, from = 2): string[] {
  return raft.entries(from, raft.basicStatus().lastIndex + 1).map((e) => `${e.index}@${e.term}`);
}

/** The texts of the normal, non-empty entries a node applied (its state machine's view). */
export function appliedTexts(net: TestNetwork, id: NodeId): string[] {
  return net
    .node(id)
    .applied.filter((e) => e.type === 'conf' || e.data.byteLength > 0)
    .map(text);
}

/** The single leader among `ids`, or null; fails if there are several at the same term. */
export function leaderOf(net: TestNetwork, ids: readonly NodeId[] = [...net.nodes.keys()]): NodeId | null {
  const leaders = ids.filter((id) => net.raft(id).basicStatus().role === 'leader');
  if (leaders.length === 0) return null;
  const terms = leaders.map((id) => net.raft(id).basicStatus().term);
  assert.equal(new Set(terms).size, terms.length, `two leaders in one term: ${leaders.join(', ')}`);
  const newest = leaders.reduce((a, b) => (net.raft(a).basicStatus().term >= net.raft(b).basicStatus().term ? a : b));
  return newest;
}

/** Tick every node until one of `ids` leads, at most `max` rounds; returns the leader. */
export function tickUntilLeader(net: TestNetwork, ids: readonly NodeId[], max = 2000): NodeId {
  for (let i = 0; i < max; i++) {
    const current = ids.find((id) => net.raft(id).basicStatus().role === 'leader');
    if (current !== undefined) return current;
    net.tickAll();
  }
  throw new Error(`none of ${ids.join(', ')} became leader within ${max} rounds`);
}

/** Asserts that `fn` throws a RaftError with the given code; returns it for further checks. */
export function expectRaftError(fn: () => unknown, code: RaftErrorCode): RaftError {
  let caught: unknown = null;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof RaftError, `expected RaftError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code);
  return caught;
}

/** Messages in `list` from index `mark` on that match the filter. */
export function since(list: readonly Message[], mark: number, filter: (m: Message) => boolean): Message[] {
  return list.slice(mark).filter(filter);
}
