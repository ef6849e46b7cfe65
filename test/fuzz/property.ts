/**
 * The fuzz suite's common shape. Each target (frame decoder, message decoder, documents, join
 * tokens, HTTP API) contributes named fast-check properties with a run count sized for
 * `npm test`; the test files check them with that count and the long run (long-run.ts) checks
 * the very same properties with many more runs and reports each one.
 *
 * Runs are seeded: QUORATE_FUZZ_SEED replays a failure, and without it every run draws a new
 * seed, so that repeated `npm test` runs explore new inputs. A failure reports the seed, the
 * shrunk counterexample and the error (fast-check's report).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isQuorateError, type QuorateError } from '../../src/util/errors.js';

export interface FuzzOutcome {
  /** Inputs tried before the property failed, or all of them. */
  readonly runs: number;
  /** Shrinking steps after a failure (each one tried another input). */
  readonly shrinks: number;
  /** fast-check's report (seed, path, shrunk counterexample, error); null when every run passed. */
  readonly failure: string | null;
}

export interface FuzzProperty {
  readonly name: string;
  /** Runs in `npm test`; the long run asks for more. */
  readonly runs: number;
  check(runs: number, seed: number): Promise<FuzzOutcome>;
}

export function fuzzProperty<Ts>(name: string, runs: number, property: fc.IRawProperty<Ts>): FuzzProperty {
  return {
    name,
    runs,
    async check(numRuns, seed) {
      const details = await fc.check(property, { numRuns, seed, includeErrorInReport: true });
      return { runs: details.numRuns, shrinks: details.numShrinks, failure: details.failed ? (fc.defaultReportMessage(details) ?? 'failed') : null };
    },
  };
}

export function fuzzSeed(): number {
  const fixed = process.env['QUORATE_FUZZ_SEED'];
  if (fixed !== undefined && fixed !== '') return Number(fixed);
  return Math.floor(Math.random() * 0x7fff_ffff);
}

/** For the test files: the property with its `npm test` run count, failing with the replay recipe. */
export async function assertFuzz(property: FuzzProperty): Promise<void> {
  const seed = fuzzSeed();
  const outcome = await property.check(property.runs, seed);
  if (outcome.failure !== null) assert.fail(`${property.name}\n${outcome.failure}\nreplay with QUORATE_FUZZ_SEED=${seed}`);
}

/**
 * What a parser must do with bad input: throw a QuorateError with one of `codes` and a message
 * a person can act on. Anything else thrown (TypeError, RangeError, a library's own error) is
 * rethrown, which fails the property with that error as the counterexample's cause.
 */
export function expectClearError(error: unknown, codes: readonly string[]): QuorateError {
  if (!isQuorateError(error)) throw error;
  assert.ok(codes.includes(error.code), `error code ${error.code}, expected one of ${codes.join(', ')}: ${error.message}`);
  assert.ok(error.message.trim().length >= 10, `a message too short to act on: ${JSON.stringify(error.message)}`);
  assert.doesNotMatch(error.message, /\[object Object\]/, 'a message that prints an object instead of saying what is wrong');
  return error;
}

/** The parser's result, or its clear refusal (see expectClearError). */
export function parsedOrRefused<T>(codes: readonly string[], parse: () => T): { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: QuorateError } {
  try {
    return { ok: true, value: parse() };
  } catch (error) {
    return { ok: false, error: expectClearError(error, codes) };
  }
}
