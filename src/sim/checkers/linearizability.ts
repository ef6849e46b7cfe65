/**
 * A linearizability checker for client histories recorded by the simulator and the chaos harness.
 *
 * The search is Wing and Gong's, with the two refinements that make it practical (Lowe, "Testing
 * for linearizability", 2017; the same design as the Porcupine checker): operations are only
 * linearized "just in time", between their call and the first still-pending return, and every
 * configuration (which operations are linearized, model state) that has been explored is
 * remembered, so that the many interleavings that lead to the same configuration are explored once.
 *
 * The history becomes a time-ordered doubly linked list of call and return entries. The search walks
 * it from the head: at a call entry it tries to apply the operation to the model; if that works, the
 * operation's entries are lifted out of the list, pushed on an undo stack, and the walk restarts from
 * the head. Reaching a return entry means that nothing called later may be linearized before that
 * entry's operation; once the remaining candidates have failed too, the last choice is undone and the
 * walk resumes after it. The history is linearizable when every operation with a known outcome has
 * been linearized.
 *
 * Operations with an unknown outcome (a request that timed out) may take effect at any point after
 * their call, or never, so they have no return entry and sit in a list of their own. The search tries
 * them only once every candidate with a known outcome has failed, and it keeps one only if the next
 * operation depends on it; both keep a few dozen pending timeouts from multiplying the search. For
 * the same reason the memo prunes a configuration that differs from an explored one only by having
 * linearized more unknown-outcome operations: it can do nothing the explored one could not.
 *
 * Read-only operations are linearized eagerly: when one can be linearized, no other order is tried
 * at that point (see Search.tryLinearize), which removes most of the branching of register histories.
 *
 * Linearizability is compositional (Herlihy and Wing), so a key-value history is checked one key at a
 * time with a register model (checkKvHistory), which keeps each search small.
 */
import { assert } from '../../util/assert.js';

/**
 * A model of a sequential object. It is pure so that the search can explore many orders, and it
 * returns a new state instead of changing one so that backtracking only has to keep the old state.
 */
export interface Model<S, I, O> {
  /** The state before any operation. */
  readonly init: S;
  /**
   * Applies `input` to `state` and returns the new state, or undefined when `output` is impossible
   * for `input` in `state`. `output` is undefined when the outcome is unknown; the model must then
   * return the state the operation leaves if it took effect, and undefined only if it cannot have
   * taken effect in `state`. It need not model "took effect but did nothing", because the checker
   * already explores never linearizing an unknown-outcome operation. Because undefined marks an
   * unknown outcome, O itself must not include undefined.
   */
  step(state: S, input: I, output: O | undefined): S | undefined;
  /** A string that is equal for equal states, used for memoization. */
  key(state: S): string;
  /** A short human-readable form of an operation for failure reports; `output` undefined means unknown. */
  describe?(input: I, output: O | undefined): string;
  /**
   * True if the operation, with this outcome, never changes the state (a read, a failed
   * compare-and-set). The hook is optional but makes the search much faster: unknown-outcome
   * read-only operations constrain nothing, so they are dropped before searching, and a read-only
   * operation that can be linearized now may as well be (see Search.tryLinearize), which saves
   * trying every other order.
   */
  readOnly?(input: I, output: O | undefined): boolean;
  /**
   * True if `step` gives the same result whatever the state (a blind write). Optional; it lets the
   * search skip such an operation right after an unknown-outcome one, where it would erase that
   * operation's effect and so can never be what the search needs (see Search.ignoresPreviousUnknown).
   * That matters because every timed-out operation is tried at every dead end.
   */
  blind?(input: I, output: O | undefined): boolean;
}

/**
 * One operation of a history. `returnTime` is Infinity and `output` undefined when the outcome is
 * unknown (a timed-out request that may or may not have taken effect). An undefined `output` is what
 * marks an unknown outcome: a finite `returnTime` (when the client gave up) is then ignored.
 *
 * Times come from one clock. An operation that returns at time t precedes one called at time t: the
 * two are not concurrent, because a client can only have seen the first reply before sending the
 * second request. The one exception is a zero-length operation (called and returned at the same t):
 * it follows every operation that returned at or before t and precedes every longer operation called
 * at t, but it is concurrent with the other zero-length operations at t, because two of them cannot
 * each precede the other.
 */
export interface Operation<I, O> {
  readonly clientId: number;
  readonly input: I;
  readonly callTime: number;
  readonly returnTime: number;
  readonly output: O | undefined;
}

/**
 * The verdict. A failure's `reason` names the longest linearizable prefix the search found and the
 * operation that could not be placed after it; 'unknown' means the search budget ran out first.
 */
export type CheckResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string }
  | { readonly ok: 'unknown'; readonly reason: string };

export interface CheckOptions {
  /**
   * The most search steps before giving up with ok: 'unknown'. A step is one call of the model's
   * `step`, the work that does not depend on how the search is implemented; recording an explored
   * configuration counts as a step too, so that the budget bounds memory as well as time.
   */
  readonly stepsMax?: number;
}

/**
 * Enough for 2000 busy operations on one key with 50 timeouts (the hardest such register history
 * tried needed about 2.6 million steps, most needed far fewer). With the register model a search
 * that uses it all takes one to three seconds and about a hundred megabytes.
 */
export const DEFAULT_STEPS_MAX = 10_000_000;

/** How many operations of the longest prefix a failure report lists; the rest are only counted. */
const PREFIX_OPS_REPORTED = 10;

/**
 * Checks that `history` is linearizable with respect to `model`. Throws an AssertionError if the
 * history itself is malformed (a call after its return, or a known output that was never returned),
 * since that is a bug in whatever recorded it, not a property of the system under test.
 */
export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult {
  const stepsMax = options.stepsMax ?? DEFAULT_STEPS_MAX;
  assert(stepsMax > 0, `stepsMax must be positive, got ${stepsMax}`);
  const timeline = buildTimeline(model, history);
  return new Search(model, timeline).run(stepsMax);
}

/** The search's view of one operation. */
interface TimelineOp<I, O> {
  readonly op: Operation<I, O>;
  /** The position in the caller's history, so that reports point at the operation the caller has. */
  readonly historyIndex: number;
  readonly known: boolean;
  /** Whether the model says the operation never changes the state. */
  readonly readOnly: boolean;
  /** Whether the model says the operation's result does not depend on the state. */
  readonly blind: boolean;
  /**
   * The bit of this operation in the known or the unknown bitset, in order of call. For an
   * unknown-outcome operation it is also its node in the list of those operations.
   */
  bit: number;
  /** Known outcome: the call and return entries in the entry list; otherwise -1. */
  callEntry: number;
  returnEntry: number;
  /**
   * Unknown outcome: the first entry after the call. Such an operation has no entries; it is a
   * candidate once no return entry before its call remains, that is, while the first remaining
   * return entry is at or after this position. -1 for known outcomes.
   */
  callPosition: number;
}

/** The operations and their call and return entries, in the order the search walks them. */
interface Timeline<I, O> {
  readonly ops: readonly TimelineOp<I, O>[];
  readonly knownCount: number;
  readonly unknownCount: number;
  /** For entry e (known-outcome operations only), the index in `ops` of its operation. */
  readonly entryOp: Int32Array;
  readonly entryIsReturn: Uint8Array;
  /** For unknown-outcome operation number b (its bit), the index in `ops`. */
  readonly unknownOp: Int32Array;
}

/** A call or return event before sorting. */
interface TimelineEvent {
  readonly opIndex: number;
  readonly isReturn: boolean;
  readonly time: number;
  readonly rank: number;
}

/**
 * Validates the history, drops what cannot matter, and orders the events by time. Bits are assigned
 * in call order so that the linearized set is close to a prefix, which keeps memo keys short.
 */
function buildTimeline<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[]): Timeline<I, O> {
  const ops: TimelineOp<I, O>[] = [];
  const events: TimelineEvent[] = [];
  history.forEach((op, historyIndex) => {
    assertWellFormed(op, historyIndex);
    const known = op.output !== undefined;
    const readOnly = model.readOnly?.(op.input, op.output) === true;
    if (!known && readOnly) return;
    const opIndex = ops.length;
    const blind = model.blind?.(op.input, op.output) === true;
    ops.push({ op, historyIndex, known, readOnly, blind, bit: -1, callEntry: -1, returnEntry: -1, callPosition: -1 });
    const zeroLength = known && op.callTime === op.returnTime;
    events.push({ opIndex, isReturn: false, time: op.callTime, rank: zeroLength ? 1 : 3 });
    if (known) events.push({ opIndex, isReturn: true, time: op.returnTime, rank: zeroLength ? 2 : 0 });
  });
  // At equal times: returns of longer operations, then calls and returns of zero-length ones, then
  // calls of longer ones (see Operation). The op index keeps the order deterministic.
  events.sort((a, b) => a.time - b.time || a.rank - b.rank || a.opIndex - b.opIndex);
  const entryCount = events.filter((event) => ops[event.opIndex]?.known === true).length;
  const entryOp = new Int32Array(entryCount);
  const entryIsReturn = new Uint8Array(entryCount);
  const unknownOp = new Int32Array(ops.length - entryCount / 2);
  let entry = 0;
  let knownCount = 0;
  let unknownCount = 0;
  for (const event of events) {
    const timelineOp = ops[event.opIndex];
    assert(timelineOp !== undefined, 'event of a missing operation');
    if (!timelineOp.known) {
      timelineOp.callPosition = entry;
      timelineOp.bit = unknownCount;
      unknownOp[unknownCount++] = event.opIndex;
      continue;
    }
    entryOp[entry] = event.opIndex;
    entryIsReturn[entry] = event.isReturn ? 1 : 0;
    if (event.isReturn) {
      timelineOp.returnEntry = entry;
    } else {
      timelineOp.callEntry = entry;
      timelineOp.bit = knownCount++;
    }
    entry++;
  }
  return { ops, knownCount, unknownCount, entryOp, entryIsReturn, unknownOp };
}

/** Rejects histories that no correct recorder can produce, so that they are fixed, not "checked". */
function assertWellFormed<I, O>(op: Operation<I, O>, historyIndex: number): void {
  assert(Number.isFinite(op.callTime), () => `operation #${historyIndex} has call time ${op.callTime}`);
  assert(!Number.isNaN(op.returnTime), () => `operation #${historyIndex} has return time NaN`);
  assert(
    op.callTime <= op.returnTime,
    () => `operation #${historyIndex} returns at ${op.returnTime}, before its call at ${op.callTime}`,
  );
  assert(
    op.output === undefined || Number.isFinite(op.returnTime),
    () => `operation #${historyIndex} has an output but never returned`,
  );
}

/**
 * A doubly linked list over the numbers 0..size-1 in order, stored in typed arrays, with a head and a
 * tail sentinel. Removal keeps a removed node's own links, so nodes removed in some order can be put
 * back in the reverse order (as with dancing links), which is exactly what the undo stack does.
 */
class LinkedList {
  readonly head: number;
  readonly tail: number;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;

  constructor(size: number) {
    this.head = size;
    this.tail = size + 1;
    this.next = new Int32Array(size + 2);
    this.prev = new Int32Array(size + 2);
    for (let node = 0; node < size; node++) {
      this.next[node] = node + 1 === size ? this.tail : node + 1;
      this.prev[node] = node === 0 ? this.head : node - 1;
    }
    this.next[this.head] = size === 0 ? this.tail : 0;
    this.prev[this.head] = -1;
    this.prev[this.tail] = size === 0 ? this.head : size - 1;
    this.next[this.tail] = -1;
  }

  /** The node after `node`, or the tail sentinel; the head sentinel gives the first node. */
  after(node: number): number {
    return this.link(this.next, node);
  }

  remove(node: number): void {
    const before = this.link(this.prev, node);
    const after = this.link(this.next, node);
    this.next[before] = after;
    this.prev[after] = before;
  }

  restore(node: number): void {
    this.next[this.link(this.prev, node)] = node;
    this.prev[this.link(this.next, node)] = node;
  }

  private link(links: Int32Array, node: number): number {
    const linked = links[node];
    assert(linked !== undefined && linked >= 0, () => `list node ${node} has no neighbour there`);
    return linked;
  }
}

/**
 * The configurations the search has explored, so that it explores each at most once. A configuration
 * is the set of linearized known-outcome operations, the model state, and the set of linearized
 * unknown-outcome operations; one is dominated by an explored one with the same known set and state
 * and a subset of its unknown set (see Search.tryLinearize).
 *
 * The known bitset is stored exactly but compactly, as the window of words from the first one that
 * is not full to the last one that is not empty: every word before the window is full and every word
 * after it is empty. Operations are linearized roughly in call order, so the window is a word or two
 * however long the history is. Records live back to back in one growing Int32Array, chained per hash
 * bucket: [next record, hash, state id, window start, window length, ...window, ...unknown words].
 * Building a string or a typed array per configuration made allocation and garbage collection the
 * bottleneck of the whole search, and a Map cannot hold more than 2^24 entries.
 */
class ExploredConfigurations {
  /** For each bucket, the first record in its chain, or -1. The length is a power of two. */
  private heads = new Int32Array(1 << 12).fill(-1);
  private records = new Int32Array(1 << 16);
  private used = 0;
  private count = 0;
  private readonly stateIds = new Map<string, number>();
  /** The window of the configuration being looked up. */
  private readonly window: Int32Array;
  private windowStart = 0;
  private windowLength = 0;

  constructor(
    knownWords: number,
    /** How many 32-bit words each unknown-outcome set takes. */
    private readonly unknownWords: number,
  ) {
    this.window = new Int32Array(knownWords);
  }

  /** Records the configuration and returns true, or returns false if an explored one dominates it. */
  addUnlessDominated(knownBits: Uint32Array, knownLinearized: number, stateKey: string, unknownBits: Uint32Array): boolean {
    let stateId = this.stateIds.get(stateKey);
    if (stateId === undefined) {
      stateId = this.stateIds.size;
      this.stateIds.set(stateKey, stateId);
    }
    this.findWindow(knownBits, knownLinearized);
    const hash = this.hash(stateId);
    const bucket = hash & (this.heads.length - 1);
    for (let record = this.heads[bucket] ?? -1; record >= 0; record = this.records[record] ?? -1) {
      if (this.dominates(record, hash, stateId, unknownBits)) return false;
    }
    const length = 5 + this.windowLength + this.unknownWords;
    if (this.used + length > this.records.length) this.growRecords(this.used + length);
    const record = this.used;
    const records = this.records;
    records[record] = this.heads[bucket] ?? -1;
    records[record + 1] = hash;
    records[record + 2] = stateId;
    records[record + 3] = this.windowStart;
    records[record + 4] = this.windowLength;
    records.set(this.window.subarray(0, this.windowLength), record + 5);
    records.set(unknownBits, record + 5 + this.windowLength);
    this.heads[bucket] = record;
    this.used += length;
    if (++this.count > this.heads.length) this.growBuckets();
    return true;
  }

  /** Fills `window`: the known bitset's words from the first not full one to the last not empty. */
  private findWindow(words: Uint32Array, knownLinearized: number): void {
    let start = 0;
    while (start < words.length && words[start] === 0xffffffff) start++;
    this.windowStart = start;
    this.windowLength = 0;
    let remaining = knownLinearized - 32 * start;
    for (let index = start; remaining > 0 && index < words.length; index++) {
      const word = words[index] ?? 0;
      this.window[this.windowLength++] = word;
      remaining -= bitCount(word);
    }
  }

  /** A 31-bit hash of the state id and the window. */
  private hash(stateId: number): number {
    let hash = Math.imul(stateId ^ 0x2545f491, 0x9e3779b1) ^ this.windowStart;
    for (let index = 0; index < this.windowLength; index++) {
      hash = Math.imul(hash ^ (hash >>> 15), 0x85ebca6b) ^ (this.window[index] ?? 0);
    }
    hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
    return (hash ^ (hash >>> 16)) & 0x7fffffff;
  }

  /** True if `record` has the configuration's known set and state and a subset of its unknown set. */
  private dominates(record: number, hash: number, stateId: number, unknownBits: Uint32Array): boolean {
    const records = this.records;
    if (records[record + 1] !== hash || records[record + 2] !== stateId) return false;
    if (records[record + 3] !== this.windowStart || records[record + 4] !== this.windowLength) return false;
    const windowAt = record + 5;
    for (let index = 0; index < this.windowLength; index++) {
      if (records[windowAt + index] !== this.window[index]) return false;
    }
    const unknownAt = windowAt + this.windowLength;
    for (let index = 0; index < unknownBits.length; index++) {
      if (((records[unknownAt + index] ?? 0) & ~(unknownBits[index] ?? 0)) !== 0) return false;
    }
    return true;
  }

  private growRecords(needed: number): void {
    const grown = new Int32Array(Math.max(needed, this.records.length * 2));
    grown.set(this.records.subarray(0, this.used));
    this.records = grown;
  }

  /** Doubles the buckets and rechains every record, so that chains stay about one record long. */
  private growBuckets(): void {
    this.heads = new Int32Array(this.heads.length * 2).fill(-1);
    const mask = this.heads.length - 1;
    for (let record = 0; record < this.used; ) {
      const bucket = (this.records[record + 1] ?? 0) & mask;
      this.records[record] = this.heads[bucket] ?? -1;
      this.heads[bucket] = record;
      record += 5 + (this.records[record + 4] ?? 0) + this.unknownWords;
    }
  }
}

/** What the search saw where it got furthest, for the failure report. */
interface DeadEnd<S> {
  /** How many operations the prefix has; only its last few are kept, for the report. */
  readonly prefixLength: number;
  readonly prefixEnd: readonly number[];
  readonly blockedOp: number;
  readonly state: S;
}

/** What happened to one candidate: see Search.tryLinearize. */
type Attempt = 'linearized' | 'skipped' | 'deadEnd';

/** One run of the search over one timeline. */
class Search<S, I, O> {
  /** The call and return entries of known-outcome operations not yet linearized, in time order. */
  private readonly entries: LinkedList;
  /** The unknown-outcome operations not yet linearized, in call order. */
  private readonly pendingUnknown: LinkedList;
  private readonly knownBits: Uint32Array;
  private readonly unknownBits: Uint32Array;
  private readonly explored: ExploredConfigurations;
  /**
   * The undo stack: the operations linearized so far, the state before each, for unknown-outcome
   * ones the return entry that bounded the candidates when it was chosen, and whether the choice was
   * the only one worth trying there (a read-only operation, see tryLinearize).
   */
  private readonly stackOps: Int32Array;
  private readonly stackStates: S[] = [];
  private readonly stackFirstReturn: Int32Array;
  private readonly stackOnlyChoice: Uint8Array;
  /** Calls of model.step and configurations recorded so far: the unit of the search budget. */
  private steps = 0;
  private depth = 0;
  private knownLinearized = 0;
  /** How many unknown-outcome operations not yet linearized are not blind writes. */
  private pendingNotBlind: number;
  private state: S;
  /**
   * Where the walk is. While `firstReturn` is -1 the cursor is in `entries` and the walk looks for
   * known-outcome candidates; once it has reached the first return entry, that entry is kept in
   * `firstReturn` and the cursor moves through `pendingUnknown` instead.
   */
  private cursor: number;
  private firstReturn = -1;
  private deadEnd: DeadEnd<S> | undefined;

  constructor(
    private readonly model: Model<S, I, O>,
    private readonly timeline: Timeline<I, O>,
  ) {
    const opCount = timeline.ops.length;
    this.entries = new LinkedList(timeline.entryOp.length);
    this.pendingUnknown = new LinkedList(timeline.unknownCount);
    this.knownBits = new Uint32Array(Math.ceil(timeline.knownCount / 32));
    this.unknownBits = new Uint32Array(Math.ceil(timeline.unknownCount / 32));
    this.stackOps = new Int32Array(opCount);
    this.stackFirstReturn = new Int32Array(opCount);
    this.stackOnlyChoice = new Uint8Array(opCount);
    this.explored = new ExploredConfigurations(this.knownBits.length, this.unknownBits.length);
    this.pendingNotBlind = timeline.ops.filter((timelineOp) => !timelineOp.known && !timelineOp.blind).length;
    this.state = model.init;
    this.cursor = this.entries.after(this.entries.head);
  }

  /**
   * The search loop. The candidates at a configuration are the calls before the first remaining
   * return entry. Those with a known outcome are tried first, walking the entry list; when the walk
   * reaches a return entry, the pending unknown-outcome operations called before it are tried. When
   * none is left the configuration is a dead end: the last choice is undone and the walk resumes
   * just past it, in the same list, so every candidate is tried once per configuration.
   */
  run(stepsMax: number): CheckResult {
    if (this.timeline.knownCount === 0) return { ok: true };
    while (this.steps < stepsMax) {
      if (this.firstReturn < 0 && this.timeline.entryIsReturn[this.cursor] === 1) {
        this.firstReturn = this.cursor;
        // Right after an unknown-outcome operation only one that depends on it is worth trying.
        const hopeless = this.followsUnknown() && this.pendingNotBlind === 0;
        this.cursor = hopeless ? this.pendingUnknown.tail : this.pendingUnknown.after(this.pendingUnknown.head);
        continue;
      }
      const opIndex = this.firstReturn < 0 ? this.entryOpIndex(this.cursor) : this.candidateUnknown();
      const attempt = opIndex < 0 ? 'deadEnd' : this.tryLinearize(opIndex);
      if (attempt === 'linearized') {
        if (this.knownLinearized === this.timeline.knownCount) return { ok: true };
        this.firstReturn = -1;
        this.cursor = this.entries.after(this.entries.head);
      } else if (attempt === 'skipped') {
        this.cursor = this.firstReturn < 0 ? this.entries.after(this.cursor) : this.pendingUnknown.after(this.cursor);
      } else if (!this.backtrack()) {
        return { ok: false, reason: this.failureReason() };
      }
    }
    return {
      ok: 'unknown',
      reason: `gave up after ${stepsMax} search steps on ${this.timeline.ops.length} operations; ${this.progress()}`,
    };
  }

  /** The unknown-outcome operation at the cursor if it was called before `firstReturn`, else -1. */
  private candidateUnknown(): number {
    if (this.cursor === this.pendingUnknown.tail) return -1;
    const opIndex = this.timeline.unknownOp[this.cursor] ?? -1;
    const callPosition = this.timeline.ops[opIndex]?.callPosition ?? -1;
    assert(callPosition >= 0, () => `unknown-outcome list node ${this.cursor} has no operation`);
    return callPosition <= this.firstReturn ? opIndex : -1;
  }

  /**
   * Leaves a dead end: undoes choices until one that had alternatives, and puts the walk just past
   * it. Returns false when there is nothing left to undo, which means the history is not linearizable.
   */
  private backtrack(): boolean {
    this.noteDeadEnd();
    for (;;) {
      if (this.depth === 0) return false;
      const undone = this.undo();
      if (this.stackOnlyChoice[this.depth] === 1) continue;
      this.firstReturn = undone.known ? -1 : (this.stackFirstReturn[this.depth] ?? -1);
      this.cursor = undone.known ? this.entries.after(undone.callEntry) : this.pendingUnknown.after(undone.bit);
      return true;
    }
  }

  /**
   * Linearizes operation `opIndex` now if the model allows it and the configuration is new.
   *
   * A read-only operation that the model allows now is the only choice worth trying here: any
   * linearization from this configuration can move it to the front, since it changes no state and
   * every other pending operation returns after it was called. So when it is linearized, the other
   * candidates are not tried after it fails ('onlyChoice'), and when the configuration it leads to is
   * pruned as explored, this configuration is a dead end too ('deadEnd').
   */
  private tryLinearize(opIndex: number): Attempt {
    const timelineOp = this.opAt(opIndex);
    const onlyChoice = timelineOp.known && timelineOp.readOnly;
    const followsUnknown = this.followsUnknown();
    if (followsUnknown && timelineOp.blind) return onlyChoice ? 'deadEnd' : 'skipped';
    const next = this.step(this.state, timelineOp);
    if (next === undefined) return 'skipped';
    const nextKey = this.model.key(next);
    if (followsUnknown && this.ignoresPreviousUnknown(timelineOp, nextKey)) return onlyChoice ? 'deadEnd' : 'skipped';
    this.markLinearized(timelineOp, true);
    if (timelineOp.known) {
      if (!this.explored.addUnlessDominated(this.knownBits, this.knownLinearized, nextKey, this.unknownBits)) {
        this.markLinearized(timelineOp, false);
        return onlyChoice ? 'deadEnd' : 'skipped';
      }
      this.steps++;
    }
    this.stackOps[this.depth] = opIndex;
    this.stackStates[this.depth] = this.state;
    this.stackFirstReturn[this.depth] = this.firstReturn;
    this.stackOnlyChoice[this.depth] = onlyChoice ? 1 : 0;
    this.depth++;
    if (timelineOp.known) {
      this.entries.remove(timelineOp.callEntry);
      this.entries.remove(timelineOp.returnEntry);
    } else {
      this.pendingUnknown.remove(timelineOp.bit);
      if (!timelineOp.blind) this.pendingNotBlind--;
    }
    this.state = next;
    return 'linearized';
  }

  /** Applies the operation to `state` with the model, counting the step against the budget. */
  private step(state: S, timelineOp: TimelineOp<I, O>): S | undefined {
    this.steps++;
    return this.model.step(state, timelineOp.op.input, timelineOp.op.output);
  }

  /** True if the last operation linearized had an unknown outcome. */
  private followsUnknown(): boolean {
    return this.depth > 0 && !this.opAt(this.stackOps[this.depth - 1] ?? -1).known;
  }

  /**
   * True if, the last operation linearized having had an unknown outcome, this one would reach the
   * same state without it (a timed-out write overwritten, say). The configuration without the
   * previous operation has the same known operations and state and fewer unknown ones, so it
   * dominates this one, and it is a sibling the search tries anyway: this operation was a candidate
   * before the previous one too (or before the first of a run of unknown-outcome operations). Every
   * unknown-outcome operation the search keeps is therefore one that a later operation depends on;
   * without the rule each timed-out write would be tried, uselessly, at every dead end.
   */
  private ignoresPreviousUnknown(timelineOp: TimelineOp<I, O>, nextKey: string): boolean {
    const before = this.stackStates[this.depth - 1];
    assert(before !== undefined, 'undo stack shorter than its depth');
    const direct = this.step(before, timelineOp);
    return direct !== undefined && this.model.key(direct) === nextKey;
  }

  /** Takes back the last linearization and returns its operation. */
  private undo(): TimelineOp<I, O> {
    this.depth--;
    const timelineOp = this.opAt(this.stackOps[this.depth] ?? -1);
    const previous = this.stackStates[this.depth];
    assert(previous !== undefined, 'undo with an empty stack');
    if (timelineOp.known) {
      this.entries.restore(timelineOp.returnEntry);
      this.entries.restore(timelineOp.callEntry);
    } else {
      this.pendingUnknown.restore(timelineOp.bit);
      if (!timelineOp.blind) this.pendingNotBlind++;
    }
    this.markLinearized(timelineOp, false);
    this.state = previous;
    return timelineOp;
  }

  /** Adds the operation to the linearized set or takes it out; the memo key reads both fields. */
  private markLinearized(timelineOp: TimelineOp<I, O>, linearized: boolean): void {
    toggleBit(timelineOp.known ? this.knownBits : this.unknownBits, timelineOp.bit);
    if (timelineOp.known) this.knownLinearized += linearized ? 1 : -1;
  }

  /**
   * Keeps the deepest dead end: its prefix is the longest linearizable one the search found, and the
   * operation of the first remaining return entry is the one that could not be placed after it.
   */
  private noteDeadEnd(): void {
    if (this.deadEnd !== undefined && this.deadEnd.prefixLength >= this.depth) return;
    let firstReturn = this.entries.after(this.entries.head);
    while (this.timeline.entryIsReturn[firstReturn] !== 1) firstReturn = this.entries.after(firstReturn);
    this.deadEnd = {
      prefixLength: this.depth,
      prefixEnd: Array.from(this.stackOps.subarray(Math.max(0, this.depth - PREFIX_OPS_REPORTED), this.depth)),
      blockedOp: this.entryOpIndex(firstReturn),
      state: this.state,
    };
  }

  private failureReason(): string {
    return `not linearizable: ${this.timeline.ops.length} operations have no valid order; ${this.progress()}`;
  }

  /** Describes the deepest dead end: the end of the longest prefix and the operation stuck after it. */
  private progress(): string {
    const deadEnd = this.deadEnd;
    if (deadEnd === undefined) return 'the search found no dead end yet';
    const shown = deadEnd.prefixEnd.map((op) => this.describeOp(op)).join('; ');
    const omitted = deadEnd.prefixLength - deadEnd.prefixEnd.length;
    const prefixText =
      deadEnd.prefixLength === 0
        ? 'the longest linearizable prefix found is empty'
        : `the longest linearizable prefix found has ${deadEnd.prefixLength} operations` +
          `${omitted > 0 ? ` (${omitted} earlier ones omitted)` : ''}: ${shown}`;
    return (
      `${prefixText}; in the state it leaves (${toJson(deadEnd.state)}) ` +
      `${this.describeOp(deadEnd.blockedOp)} could not be linearized before it returned`
    );
  }

  private describeOp(opIndex: number): string {
    const { op, historyIndex } = this.opAt(opIndex);
    const text = this.model.describe?.(op.input, op.output) ?? describeGeneric(op.input, op.output);
    const returned = op.output === undefined ? 'unknown outcome' : String(op.returnTime);
    return `#${historyIndex} client ${op.clientId} ${text} [${op.callTime}, ${returned}]`;
  }

  private entryOpIndex(entry: number): number {
    const opIndex = this.timeline.entryOp[entry];
    assert(opIndex !== undefined, () => `entry ${entry} is outside the timeline`);
    return opIndex;
  }

  private opAt(opIndex: number): TimelineOp<I, O> {
    const timelineOp = this.timeline.ops[opIndex];
    assert(timelineOp !== undefined, () => `no operation ${opIndex}`);
    return timelineOp;
  }
}

function toggleBit(bits: Uint32Array, bit: number): void {
  const word = bit >>> 5;
  bits[word] = (bits[word] ?? 0) ^ (1 << (bit & 31));
}

/** The number of bits set in a 32-bit word. */
function bitCount(word: number): number {
  let bits = word - ((word >>> 1) & 0x55555555);
  bits = (bits & 0x33333333) + ((bits >>> 2) & 0x33333333);
  return (Math.imul((bits + (bits >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** A fallback description for models without `describe`. */
function describeGeneric(input: unknown, output: unknown): string {
  return `${toJson(input)} -> ${output === undefined ? '?' : toJson(output)}`;
}

function toJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

// ---------------------------------------------------------------------------------------------
// Key-value registers.
// ---------------------------------------------------------------------------------------------

export type KvInput =
  | { readonly kind: 'read'; readonly key: string }
  | { readonly kind: 'write'; readonly key: string; readonly value: string }
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

/** read: the value read (null = absent); write: nothing; cas: whether it succeeded. */
export type KvOutput =
  | { readonly kind: 'read'; readonly value: string | null }
  | { readonly kind: 'write' }
  | { readonly kind: 'cas'; readonly ok: boolean };

/**
 * One key's register, initially absent (null). A cas with `expected` null means "only if absent".
 * A failed cas leaves the state alone and requires that the value differ from `expected`. A cas with
 * an unknown outcome is modelled as succeeding, because failing is a no-op and the checker already
 * explores never linearizing it.
 */
export const registerModel: Model<string | null, KvInput, KvOutput> = {
  init: null,
  step(state, input, output) {
    assert(output === undefined || output.kind === input.kind, () => `${input.kind} recorded with a ${output?.kind ?? ''} output`);
    switch (input.kind) {
      case 'read':
        if (output === undefined) return state;
        return output.kind === 'read' && output.value === state ? state : undefined;
      case 'write':
        return input.value;
      case 'cas': {
        const succeeded = output === undefined || (output.kind === 'cas' && output.ok);
        if (succeeded) return state === input.expected ? input.value : undefined;
        return state === input.expected ? undefined : state;
      }
    }
  },
  key(state) {
    // A NUL character stands for absent; a value that starts with one is escaped with another. Other
    // values are their own key, which spares the search a string allocation per step.
    if (state === null) return '\u0000';
    return state.startsWith('\u0000') ? `\u0000${state}` : state;
  },
  describe(input, output) {
    const shown = (value: string | null): string => (value === null ? 'absent' : JSON.stringify(value));
    switch (input.kind) {
      case 'read':
        return `read(${input.key}) -> ${output?.kind === 'read' ? shown(output.value) : '?'}`;
      case 'write':
        return `write(${input.key}, ${shown(input.value)})${output === undefined ? ' -> ?' : ''}`;
      case 'cas': {
        const outcome = output?.kind === 'cas' ? (output.ok ? 'ok' : 'failed') : '?';
        return `cas(${input.key}, ${shown(input.expected)} -> ${shown(input.value)}) -> ${outcome}`;
      }
    }
  },
  readOnly(input, output) {
    return input.kind === 'read' || (output?.kind === 'cas' && !output.ok);
  },
  blind(input) {
    return input.kind === 'write';
  },
};

/** The verdict for a key-value history; failures and give-ups name the key whose history it was. */
export type KvCheckResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: string; readonly key: string }
  | { readonly ok: 'unknown'; readonly reason: string; readonly key: string };

/**
 * Checks a key-value history one key at a time, which is sound because linearizability is
 * compositional: the whole history is linearizable if and only if each key's sub-history is. The
 * search is exponential in the worst case, so many small searches beat one big one. Keys are checked
 * in sorted order so that reports are reproducible; a violation on any key wins over a give-up on
 * another, and `stepsMax` applies to each key separately.
 */
export function checkKvHistory(history: readonly Operation<KvInput, KvOutput>[], options: CheckOptions = {}): KvCheckResult {
  const byKey = new Map<string, Operation<KvInput, KvOutput>[]>();
  for (const op of history) {
    const ops = byKey.get(op.input.key);
    if (ops === undefined) byKey.set(op.input.key, [op]);
    else ops.push(op);
  }
  let gaveUp: KvCheckResult | undefined;
  for (const key of [...byKey.keys()].sort()) {
    const result = checkLinearizable(registerModel, byKey.get(key) ?? [], options);
    if (result.ok === false) return { ok: false, key, reason: `key ${JSON.stringify(key)}: ${result.reason}` };
    if (result.ok === 'unknown' && gaveUp === undefined) {
      gaveUp = { ok: 'unknown', key, reason: `key ${JSON.stringify(key)}: ${result.reason}` };
    }
  }
  return gaveUp ?? { ok: true };
}
