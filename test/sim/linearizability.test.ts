// Checks the linearizability checker (src/sim/checkers/linearizability.ts) four ways: hand-made
// register histories whose verdict is known (valid and invalid, with concurrency, compare-and-set,
// unknown outcomes, equal timestamps and several keys); property tests with fast-check that build
// histories from a random sequential execution, so they are linearizable by construction, and then
// corrupt one read so that they are not; a property test that compares the verdict on small
// arbitrary histories with a brute-force search over every order; and performance tests on long,
// busy single-key histories that must be decided rather than given up on (time is reported only).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  checkKvHistory,
  checkLinearizable,
  registerModel,
  type CheckResult,
  type KvInput,
  type KvOutput,
  type Model,
  type Operation,
} from '../../src/sim/checkers/linearizability.js';
import { AssertionError } from '../../src/util/assert.js';

type KvOp = Operation<KvInput, KvOutput>;

const KEY = 'x';

function read(clientId: number, value: string | null, callTime: number, returnTime: number, key = KEY): KvOp {
  return { clientId, input: { kind: 'read', key }, callTime, returnTime, output: { kind: 'read', value } };
}

function write(clientId: number, value: string, callTime: number, returnTime: number, key = KEY): KvOp {
  return { clientId, input: { kind: 'write', key, value }, callTime, returnTime, output: { kind: 'write' } };
}

function cas(
  clientId: number,
  expected: string | null,
  value: string,
  ok: boolean,
  callTime: number,
  returnTime: number,
): KvOp {
  return { clientId, input: { kind: 'cas', key: KEY, expected, value }, callTime, returnTime, output: { kind: 'cas', ok } };
}

/** A request that timed out: it may or may not have taken effect. */
function unknown(op: KvOp): KvOp {
  return { ...op, returnTime: Infinity, output: undefined };
}

function check(history: readonly KvOp[]): CheckResult {
  return checkLinearizable(registerModel, history);
}

function assertOk(result: CheckResult): void {
  assert.deepEqual(result, { ok: true });
}

function assertViolation(result: CheckResult): string {
  assert.equal(result.ok, false, `expected a violation, got ${JSON.stringify(result)}`);
  return result.reason;
}

describe('sequential histories', () => {
  test('an empty history is linearizable', () => {
    assertOk(check([]));
  });

  test('reads see the latest write', () => {
    assertOk(check([read(1, null, 0, 1), write(1, 'a', 2, 3), read(1, 'a', 4, 5), write(2, 'b', 6, 7), read(1, 'b', 8, 9)]));
  });

  test('a read of a value other than the latest write is a violation', () => {
    assertViolation(check([write(1, 'a', 0, 1), read(1, 'b', 2, 3)]));
  });

  test('a read of absent after a completed write is a violation', () => {
    assertViolation(check([write(1, 'a', 0, 1), read(2, null, 2, 3)]));
  });

  test('the failure report names the prefix and the operation that could not be placed', () => {
    const reason = assertViolation(check([write(1, 'a', 0, 1), read(2, 'a', 2, 3), read(3, 'b', 4, 5)]));
    assert.match(reason, /prefix found has 2 operations/);
    assert.match(reason, /#0 client 1 write\(x, "a"\) \[0, 1\]; #1 client 2 read\(x\) -> "a" \[2, 3\]/);
    assert.match(reason, /#2 client 3 read\(x\) -> "b" \[4, 5\] could not be linearized/);
  });
});

describe('concurrent histories', () => {
  test('reads after two concurrent writes may see either order', () => {
    const writes = [write(1, 'a', 0, 10), write(2, 'b', 0, 10)];
    assertOk(check([...writes, read(3, 'a', 11, 12), read(3, 'a', 13, 14)]));
    assertOk(check([...writes, read(3, 'b', 11, 12), read(3, 'b', 13, 14)]));
  });

  test('a read concurrent with a write may see the old or the new value', () => {
    assertOk(check([write(1, 'a', 0, 1), write(1, 'b', 2, 10), read(2, 'a', 3, 4), read(2, 'b', 5, 6)]));
  });

  test('two reads after concurrent writes must agree on which write was last', () => {
    const writes = [write(1, 'a', 0, 10), write(2, 'b', 0, 10)];
    assertViolation(check([...writes, read(3, 'a', 11, 12), read(3, 'b', 13, 14)]));
  });

  test('a stale read after a completed write is a violation', () => {
    assertViolation(check([write(1, 'a', 0, 1), write(2, 'b', 2, 3), read(3, 'a', 4, 5)]));
  });

  test('a read of a value never written is a violation', () => {
    assertViolation(check([write(1, 'a', 0, 10), read(2, 'z', 1, 11)]));
  });

  test('a later read that sees an older value than an earlier read is a violation (new-old inversion)', () => {
    const history = [write(1, 'a', 0, 1), write(1, 'b', 2, 100), read(2, 'b', 3, 4), read(3, 'a', 5, 6)];
    assertViolation(check(history));
  });

  test('overlapping reads may see the old and the new value in either order', () => {
    const history = [write(1, 'a', 0, 1), write(1, 'b', 2, 100), read(2, 'b', 3, 6), read(3, 'a', 4, 7)];
    assertOk(check(history));
  });
});

describe('compare-and-set', () => {
  test('successes and failures that agree with the value are linearizable', () => {
    assertOk(
      check([
        cas(1, null, 'a', true, 0, 1),
        cas(2, null, 'b', false, 2, 3),
        cas(1, 'a', 'b', true, 4, 5),
        cas(2, 'a', 'c', false, 6, 7),
        read(3, 'b', 8, 9),
      ]),
    );
  });

  test('a cas that only applies if absent fails once the key exists', () => {
    assertViolation(check([write(1, 'a', 0, 1), cas(2, null, 'b', true, 2, 3)]));
  });

  test('a failed cas whose expected value was current is a violation', () => {
    assertViolation(check([write(1, 'a', 0, 1), cas(2, 'a', 'b', false, 2, 3)]));
  });

  test('a failed cas does not change the value', () => {
    assertViolation(check([write(1, 'a', 0, 1), cas(2, 'z', 'b', false, 2, 3), read(1, 'b', 4, 5)]));
  });

  test('two successful cas from the same expected value, one after the other, is a violation', () => {
    assertViolation(check([write(1, 'a', 0, 1), cas(1, 'a', 'b', true, 2, 3), cas(2, 'a', 'c', true, 4, 5)]));
  });

  test('two successful concurrent cas from the same expected value is a violation too', () => {
    assertViolation(check([write(1, 'a', 0, 1), cas(1, 'a', 'b', true, 2, 10), cas(2, 'a', 'c', true, 3, 9)]));
  });

  test('of two concurrent cas from the same expected value, one may win and one lose', () => {
    assertOk(
      check([write(1, 'a', 0, 1), cas(1, 'a', 'b', true, 2, 10), cas(2, 'a', 'c', false, 3, 9), read(3, 'b', 11, 12)]),
    );
  });
});

describe('unknown outcomes', () => {
  test('a timed-out write may have taken effect', () => {
    assertOk(check([write(1, 'a', 0, 1), unknown(write(2, 'b', 2, 3)), read(3, 'b', 10, 11), read(3, 'b', 12, 13)]));
  });

  test('a timed-out write may never have taken effect', () => {
    assertOk(check([write(1, 'a', 0, 1), unknown(write(2, 'b', 2, 3)), read(3, 'a', 10, 11), read(3, 'a', 12, 13)]));
  });

  test('a timed-out write may take effect long after it was sent', () => {
    assertOk(check([unknown(write(2, 'b', 0, 1)), write(1, 'a', 2, 3), read(3, 'a', 4, 5), read(3, 'b', 6, 7)]));
  });

  test('a timed-out write that was seen and then unseen is a violation', () => {
    assertViolation(
      check([write(1, 'a', 0, 1), unknown(write(2, 'b', 2, 3)), read(3, 'b', 10, 11), read(3, 'a', 12, 13)]),
    );
  });

  test('a timed-out write cannot be seen before it was sent', () => {
    assertViolation(check([read(3, 'b', 0, 1), unknown(write(2, 'b', 2, 3))]));
  });

  test('a timed-out cas takes effect only if its expected value was current', () => {
    const start = [write(1, 'a', 0, 1), unknown(cas(2, 'a', 'b', true, 2, 3))];
    assertOk(check([...start, read(3, 'b', 4, 5)]));
    assertOk(check([...start, read(3, 'a', 4, 5)]));
    assertViolation(check([write(1, 'z', 0, 1), unknown(cas(2, 'a', 'b', true, 2, 3)), read(3, 'b', 4, 5)]));
  });

  test('timed-out reads constrain nothing', () => {
    assertOk(check([write(1, 'a', 0, 1), unknown(read(2, 'a', 2, 3)), read(3, 'a', 4, 5)]));
  });

  test('a history of only timed-out operations is linearizable', () => {
    assertOk(check([unknown(write(1, 'a', 0, 1)), unknown(cas(2, 'b', 'c', true, 0, 1))]));
  });

  test('many timed-out writes do not hide a violation', () => {
    const timedOut = Array.from({ length: 30 }, (_, index) => unknown(write(10 + index, `u${index}`, 2 + index, 3 + index)));
    const history = [write(1, 'a', 0, 1), ...timedOut, write(2, 'b', 40, 41), read(3, 'b', 42, 43), read(3, 'a', 44, 45)];
    assertViolation(check(history));
  });
});

describe('equal timestamps', () => {
  test('an operation returning at t precedes one called at t', () => {
    assertOk(check([write(1, 'a', 0, 5), read(2, 'a', 5, 6)]));
    assertViolation(check([write(1, 'a', 0, 5), read(2, null, 5, 6)]));
    assertViolation(check([read(2, 'a', 0, 5), write(1, 'a', 5, 6)]));
  });

  test('a zero-length operation follows what returned at its instant and precedes what is called then', () => {
    assertOk(check([write(1, 'a', 0, 5), read(2, 'a', 5, 5), write(3, 'b', 5, 9), read(4, 'b', 9, 9)]));
    assertViolation(check([write(1, 'a', 0, 5), read(2, null, 5, 5)]));
    assertViolation(check([write(1, 'a', 5, 5), write(3, 'b', 5, 9), read(4, 'a', 9, 10)]));
  });

  test('zero-length operations at the same instant are concurrent with each other', () => {
    assertOk(check([write(1, 'a', 5, 5), read(2, 'a', 5, 5)]));
    assertOk(check([read(2, 'a', 5, 5), write(1, 'a', 5, 5)]));
  });
});

describe('malformed histories', () => {
  test('a call after its return is a bug in the recorder', () => {
    assert.throws(() => check([write(1, 'a', 5, 4)]), AssertionError);
  });

  test('a known output without a return time is a bug in the recorder', () => {
    assert.throws(() => check([{ ...write(1, 'a', 0, 1), returnTime: Infinity }]), AssertionError);
  });

  test('an output of the wrong kind is a bug in the recorder', () => {
    assert.throws(() => check([{ ...write(1, 'a', 0, 1), output: { kind: 'read', value: 'a' } }]), AssertionError);
  });
});

describe('search budget', () => {
  test('a search that needs more steps than allowed gives up with unknown', () => {
    const writes = Array.from({ length: 12 }, (_, index) => write(index, `v${index}`, 0, 100));
    const result = checkLinearizable(registerModel, [...writes, read(20, 'nope', 101, 102)], { stepsMax: 50 });
    assert.equal(result.ok, 'unknown');
  });
});

describe('a generic model', () => {
  // A counter with increments and reads shows that the search does not depend on the register.
  type CounterInput = { readonly kind: 'add'; readonly amount: number } | { readonly kind: 'get' };
  const counterModel: Model<number, CounterInput, number | null> = {
    init: 0,
    step: (state, input, output) => {
      if (input.kind === 'add') return state + input.amount;
      return output === undefined || output === state ? state : undefined;
    },
    key: (state) => String(state),
  };
  const op = (input: CounterInput, output: number | null, callTime: number, returnTime: number) => ({
    clientId: 0,
    input,
    output,
    callTime,
    returnTime,
  });

  test('increments commute but reads pin down how many happened', () => {
    const adds = [op({ kind: 'add', amount: 1 }, null, 0, 10), op({ kind: 'add', amount: 2 }, null, 0, 10)];
    assert.deepEqual(checkLinearizable(counterModel, [...adds, op({ kind: 'get' }, 2, 1, 9)]), { ok: true });
    const result = checkLinearizable(counterModel, [...adds, op({ kind: 'get' }, 1, 11, 12)]);
    assert.equal(result.ok, false);
    assert.match(result.reason, /\{"kind":"get"\} -> 1/);
  });
});

describe('key-value histories', () => {
  test('each key is checked on its own and a violation names its key', () => {
    const history = [
      write(1, 'a', 0, 1, 'x'),
      write(2, 'a', 0, 1, 'y'),
      read(1, 'a', 2, 3, 'x'),
      write(2, 'b', 2, 3, 'y'),
      read(3, 'a', 4, 5, 'y'),
    ];
    const result = checkKvHistory(history);
    assert.equal(result.ok, false);
    assert.equal(result.key, 'y');
    assert.match(result.reason, /^key "y": not linearizable/);
  });

  test('values on different keys do not interfere', () => {
    const history = [write(1, 'a', 0, 1, 'x'), write(2, 'b', 2, 3, 'y'), read(3, 'a', 4, 5, 'x'), read(3, null, 4, 5, 'z')];
    assert.deepEqual(checkKvHistory(history), { ok: true });
  });

  test('a give-up on one key names the key', () => {
    const writes = Array.from({ length: 12 }, (_, index) => write(index, `v${index}`, 0, 100, 'slow'));
    const result = checkKvHistory([...writes, read(20, 'nope', 101, 102, 'slow'), read(1, null, 0, 1, 'fast')], {
      stepsMax: 50,
    });
    assert.equal(result.ok, 'unknown');
    assert.equal(result.key, 'slow');
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests: histories that are linearizable by construction.
// ---------------------------------------------------------------------------------------------

const VALUES = ['a', 'b', 'c'] as const;
const valueArb = fc.constantFrom(...VALUES);

/** An operation on the register before it is given a key and an output. */
type PlannedInput =
  | { readonly kind: 'read' }
  | { readonly kind: 'write'; readonly value: string }
  | { readonly kind: 'cas'; readonly expected: string | null; readonly value: string };

/** One operation of a random sequential execution and how its real-time interval is drawn. */
interface PlannedOp {
  readonly input: PlannedInput;
  /** How far the call is before and the return after the linearization point. */
  readonly callWidth: number;
  readonly returnWidth: number;
  /** Whether the client timed out, so the outcome is unknown (1 in 8). */
  readonly timedOut: boolean;
}

const plannedOpArb: fc.Arbitrary<PlannedOp> = fc.record({
  input: fc.oneof(
    fc.constant({ kind: 'read' as const }),
    fc.record({ kind: fc.constant('write' as const), value: valueArb }),
    fc.record({ kind: fc.constant('cas' as const), expected: fc.option(valueArb, { nil: null }), value: valueArb }),
  ),
  callWidth: fc.nat({ max: 12 }),
  returnWidth: fc.nat({ max: 12 }),
  timedOut: fc.nat({ max: 7 }).map((draw) => draw === 0),
});

/** A write or cas that timed out and never took effect, called at `callTime`. */
interface LostOp {
  readonly value: string;
  readonly casExpected: string | null | undefined;
  readonly callTime: number;
}

const lostOpArb: fc.Arbitrary<LostOp> = fc.record({
  value: valueArb,
  casExpected: fc.option(fc.option(valueArb, { nil: null }), { nil: undefined }),
  callTime: fc.nat({ max: 200 }),
});

/**
 * Runs the planned operations one after another on a register, each taking effect at its own
 * instant (4 time units apart), and records each with an interval around that instant. Timed-out
 * operations took effect but their client never learned the outcome; lost operations never did.
 */
function historyFrom(planned: readonly PlannedOp[], lost: readonly LostOp[]): KvOp[] {
  let state: string | null = null;
  const history: KvOp[] = planned.map((plan, index) => {
    const instant = 4 * (index + 1);
    const callTime = Math.max(0, instant - plan.callWidth);
    const returnTime = instant + plan.returnWidth;
    const { input, output } = applyToRegister(plan.input, state);
    state = nextState(input, state);
    const recorded: KvOp = { clientId: 0, input, callTime, returnTime, output };
    return plan.timedOut ? unknown(recorded) : recorded;
  });
  for (const op of lost) {
    const input: KvInput =
      op.casExpected === undefined
        ? { kind: 'write', key: KEY, value: op.value }
        : { kind: 'cas', key: KEY, expected: op.casExpected, value: op.value };
    history.push({ clientId: 0, input, callTime: op.callTime, returnTime: Infinity, output: undefined });
  }
  return assignClients(history);
}

function applyToRegister(plan: PlannedInput, state: string | null): { input: KvInput; output: KvOutput } {
  switch (plan.kind) {
    case 'read':
      return { input: { kind: 'read', key: KEY }, output: { kind: 'read', value: state } };
    case 'write':
      return { input: { kind: 'write', key: KEY, value: plan.value }, output: { kind: 'write' } };
    case 'cas':
      return { input: { key: KEY, ...plan }, output: { kind: 'cas', ok: state === plan.expected } };
  }
}

function nextState(input: KvInput, state: string | null): string | null {
  if (input.kind === 'write') return input.value;
  if (input.kind === 'cas' && state === input.expected) return input.value;
  return state;
}

/**
 * Gives each operation a client that is idle at its call, as a real client issues one request at a
 * time. Clients do not matter to the checker; this only keeps the generated histories realistic.
 */
function assignClients(history: readonly KvOp[]): KvOp[] {
  const busyUntil: number[] = [];
  const order = [...history.keys()].sort((a, b) => (history[a]?.callTime ?? 0) - (history[b]?.callTime ?? 0));
  const assigned = [...history];
  for (const index of order) {
    const op = history[index];
    if (op === undefined) continue;
    let clientId = busyUntil.findIndex((until) => until <= op.callTime);
    if (clientId < 0) clientId = busyUntil.length;
    busyUntil[clientId] = Number.isFinite(op.returnTime) ? op.returnTime : op.callTime + 20;
    assigned[index] = { ...op, clientId };
  }
  return assigned;
}

describe('property: histories from a sequential execution', () => {
  const historyArb = fc
    .tuple(fc.array(plannedOpArb, { minLength: 1, maxLength: 40 }), fc.array(lostOpArb, { maxLength: 3 }))
    .map(([planned, lost]) => historyFrom(planned, lost));

  test('are linearizable', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        assert.deepEqual(check(history), { ok: true });
      }),
      { numRuns: 500 },
    );
  });

  test('are not linearizable once a read returns a value never written', () => {
    const withReadArb = historyArb
      .filter((history) => history.some((op) => op.input.kind === 'read' && op.output !== undefined))
      .chain((history) => fc.tuple(fc.constant(history), fc.nat({ max: history.length - 1 })));
    fc.assert(
      fc.property(withReadArb, ([history, pick]) => {
        const reads = [...history.keys()].filter((index) => history[index]?.input.kind === 'read' && history[index].output !== undefined);
        const victim = reads[pick % reads.length] ?? -1;
        const corrupted = history.map((op, index): KvOp => (index === victim ? { ...op, output: { kind: 'read', value: 'never' } } : op));
        assert.equal(check(corrupted).ok, false);
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Property test: agreement with a brute-force search on small arbitrary histories.
// ---------------------------------------------------------------------------------------------

/**
 * Whether `a` must take effect before `b` in real time, by the rules documented on Operation: `a`
 * returned no later than `b` was called, except that two zero-length operations at one instant are
 * concurrent. An operation with an unknown outcome never returned, so it precedes nothing.
 */
function precedes(a: KvOp, b: KvOp): boolean {
  if (a.output === undefined) return false;
  const zeroLength = (op: KvOp): boolean => op.output !== undefined && op.callTime === op.returnTime;
  return a.returnTime < b.callTime || (a.returnTime === b.callTime && !(zeroLength(a) && zeroLength(b)));
}

/**
 * The definition, searched naively: some order of all known-outcome operations and some of the
 * unknown-outcome ones respects real time and the register. Only usable for a handful of operations.
 */
function bruteForceLinearizable(history: readonly KvOp[]): boolean {
  const knownMask = history.reduce((mask, op, index) => (op.output === undefined ? mask : mask | (1 << index)), 0);
  const failed = new Set<string>();
  const extend = (placed: number, state: string | null): boolean => {
    if ((placed & knownMask) === knownMask) return true;
    const memoKey = `${placed}:${String(state)}`;
    if (failed.has(memoKey)) return false;
    for (const [index, op] of history.entries()) {
      if ((placed & (1 << index)) !== 0) continue;
      const ready = history.every((other, otherIndex) => (placed & (1 << otherIndex)) !== 0 || otherIndex === index || !precedes(other, op));
      if (!ready) continue;
      const next = registerModel.step(state, op.input, op.output);
      if (next !== undefined && extend(placed | (1 << index), next)) return true;
    }
    failed.add(memoKey);
    return false;
  };
  return extend(0, registerModel.init);
}

/** A small arbitrary history over two values, with outputs drawn at random (so mostly wrong). */
const arbitraryHistoryArb: fc.Arbitrary<KvOp[]> = fc.array(
  fc.record({
    input: fc.oneof(
      fc.constant<KvInput>({ kind: 'read', key: KEY }),
      fc.record({ kind: fc.constant('write' as const), key: fc.constant(KEY), value: fc.constantFrom('a', 'b') }),
      fc.record({
        kind: fc.constant('cas' as const),
        key: fc.constant(KEY),
        expected: fc.constantFrom(null, 'a', 'b'),
        value: fc.constantFrom('a', 'b'),
      }),
    ),
    readValue: fc.constantFrom(null, 'a', 'b'),
    casOk: fc.boolean(),
    callTime: fc.nat({ max: 6 }),
    duration: fc.nat({ max: 4 }),
    timedOut: fc.nat({ max: 4 }).map((draw) => draw === 0),
    clientId: fc.nat({ max: 3 }),
  }),
  { maxLength: 7 },
).map((drawn) =>
  drawn.map(({ input, readValue, casOk, callTime, duration, timedOut, clientId }): KvOp => {
    const output: KvOutput =
      input.kind === 'read' ? { kind: 'read', value: readValue } : input.kind === 'write' ? { kind: 'write' } : { kind: 'cas', ok: casOk };
    const op: KvOp = { clientId, input, callTime, returnTime: callTime + duration, output };
    return timedOut ? unknown(op) : op;
  }),
);

describe('property: agreement with a brute-force search', () => {
  test('small arbitrary histories get the same verdict', () => {
    fc.assert(
      fc.property(arbitraryHistoryArb, (history) => {
        assert.equal(check(history).ok, bruteForceLinearizable(history));
      }),
      { numRuns: 3000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Performance: a long busy history on one key.
// ---------------------------------------------------------------------------------------------

/** A small seeded generator (mulberry32) so that the performance history is the same every run. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `opCount` operations by `clientCount` clients, each taking effect at its own instant 10 units
 * apart inside an interval that reaches up to `spread` units either side (but never overlaps the
 * same client's previous operation), so most clients are busy at any time. A read and a write each
 * make up about half; one in ten is a compare-and-set. Every write has a fresh value;
 * `timedOutWrites` writes time out, and half of those never take effect.
 */
function busyHistory(seed: number, clientCount: number, opCount: number, timedOutWrites: number, spread: number): KvOp[] {
  const random = seededRandom(seed);
  const busyUntil = new Array<number>(clientCount).fill(0);
  const history: KvOp[] = [];
  let state: string | null = null;
  let timedOutLeft = timedOutWrites;
  let writeCount = 0;
  for (let index = 0; index < opCount; index++) {
    const instant = 10 * (index + 1);
    const idle = [...busyUntil.keys()].filter((client) => (busyUntil[client] ?? 0) < instant);
    const clientId = idle[Math.floor(random() * idle.length)] ?? 0;
    const callTime = Math.max(busyUntil[clientId] ?? 0, instant - Math.floor(random() * spread));
    const returnTime = instant + Math.floor(random() * spread);
    busyUntil[clientId] = returnTime;
    const draw = random();
    if (draw < 0.5) {
      history.push(read(clientId, state, callTime, returnTime));
    } else if (draw < 0.9 || state === null) {
      const op = write(clientId, `v${index}`, callTime, returnTime);
      writeCount++;
      const timesOut = timedOutLeft > 0 && writeCount % Math.floor((0.35 * opCount) / timedOutWrites) === 1;
      if (timesOut) timedOutLeft--;
      if (!timesOut || timedOutLeft % 2 === 0) state = `v${index}`;
      history.push(timesOut ? unknown(op) : op);
    } else {
      const expected = random() < 0.7 ? state : 'stale';
      history.push(cas(clientId, expected, `v${index}`, expected === state, callTime, returnTime));
      if (expected === state) state = `v${index}`;
    }
  }
  return history;
}

/**
 * The most operations with a known outcome in progress at once, which shows how much the search has
 * to untangle (timed-out operations stay pending for good and come on top).
 */
function maxConcurrency(history: readonly KvOp[]): number {
  const events = history
    .filter((op) => op.output !== undefined)
    .flatMap((op) => [
      { time: op.callTime, change: 1 },
      { time: op.returnTime, change: -1 },
    ]);
  events.sort((a, b) => a.time - b.time || a.change - b.change);
  let open = 0;
  let most = 0;
  for (const event of events) {
    open += event.change;
    most = Math.max(most, open);
  }
  return most;
}

describe('performance', () => {
  // Wall-clock time is reported, not asserted: it depends on the machine. What is asserted is that
  // the search decides within its default budget instead of giving up.
  test('2000 operations by 10 clients with 20 timed-out writes are decided', (context) => {
    const history = busyHistory(7, 10, 2000, 20, 60);
    assert.equal(history.filter((op) => op.output === undefined).length, 20);
    const started = performance.now();
    const result = check(history);
    const elapsed = (performance.now() - started).toFixed(1);
    context.diagnostic(`checked ${history.length} operations, up to ${maxConcurrency(history)} at once, in ${elapsed} ms`);
    assert.deepEqual(result, { ok: true });
  });

  test('the same history with one stale read near the end is a violation, not a give-up', (context) => {
    const history = busyHistory(7, 10, 2000, 20, 60);
    const victim = history.findLastIndex((op) => op.input.kind === 'read' && op.output?.kind === 'read' && op.output.value !== null);
    const earlier = history.find((op) => op.input.kind === 'write' && op.output !== undefined);
    assert.ok(victim > 1900 && earlier !== undefined && earlier.input.kind === 'write');
    const staleValue = earlier.input.value;
    const corrupted = history.map((op, index): KvOp => (index === victim ? { ...op, output: { kind: 'read', value: staleValue } } : op));
    const started = performance.now();
    const result = check(corrupted);
    context.diagnostic(`refuted ${history.length} operations in ${(performance.now() - started).toFixed(1)} ms`);
    assert.equal(result.ok, false);
  });

  test('2000 long operations by 10 clients with 50 timed-out writes are decided', (context) => {
    const history = busyHistory(11, 10, 2000, 50, 100);
    assert.equal(history.filter((op) => op.output === undefined).length, 50);
    const started = performance.now();
    const result = check(history);
    const elapsed = (performance.now() - started).toFixed(1);
    context.diagnostic(`checked ${history.length} operations, up to ${maxConcurrency(history)} at once, in ${elapsed} ms`);
    assert.deepEqual(result, { ok: true });
  });
});
