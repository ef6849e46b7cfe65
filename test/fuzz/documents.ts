/**
 * The same four fuzz properties for every operator document (job files, the fencing file, the
 * server's TOML config): arbitrary or mutated documents give a result or a clear error with the
 * parser's code; a valid document with one value of the wrong type is refused naming that
 * value's field; valid documents are accepted as written; and file text (TOML-ish lines,
 * damaged TOML and JSON, anything) read by the real loader gives a result or a clear error.
 */
import assert from 'node:assert/strict';
import { unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { damagedText, tomlish } from './document-text.js';
import { follow, mutated, mutation, type Mutation } from './mutate.js';
import { expectClearError, fuzzProperty, type FuzzProperty } from './property.js';

export interface DocumentTarget {
  /** Names the target in the property names: "job spec". */
  readonly what: string;
  /** The error code of a refusal. */
  readonly code: string;
  readonly valid: fc.Arbitrary<Record<string, unknown>>;
  /** Top-level keys and table names, to shape arbitrary documents and TOML-ish text. */
  readonly keys: readonly string[];
  readonly tables: readonly string[];
  /** Validates a parsed document; the result must pass `check`. */
  parse(document: unknown): Promise<unknown>;
  /** Reads a file as `quorate` does (TOML, or JSON for `.json`). */
  load(path: string): Promise<unknown>;
  /** Throws when an accepted document's result does not say what the document said. */
  check(document: Record<string, unknown>, result: unknown): void;
  /** Fields that take more than one JSON type (a node id is a number or a name). */
  readonly multiTyped?: readonly string[];
}

let scratchFiles = 0;

/** The text as a file with that extension, for `load`, removed afterwards. */
export async function withFile<T>(text: string, extension: '.toml' | '.json', use: (path: string) => Promise<T>): Promise<T> {
  const path = join(tmpdir(), `quorate-fuzz-${process.pid}-${scratchFiles++}${extension}`);
  await writeFile(path, text);
  try {
    return await use(path);
  } finally {
    await unlink(path);
  }
}

async function resultOrClearError(target: DocumentTarget, run: () => Promise<unknown>): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, message: expectClearError(error, [target.code]).message };
  }
}

/** One value of each JSON type; a replacement is taken from the types the field does not accept. */
const typeSamples: readonly unknown[] = ['text', 7, 1.5, true, null, ['x'], { x: 1 }];
const jsonType = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

function wrongTyped(document: Record<string, unknown>, steps: readonly number[], pick: number, multiTyped: readonly string[]): { mutation: Mutation; field: string } {
  const { path, found } = follow(document, steps);
  const accepted = multiTyped.includes(String(path[path.length - 1])) ? ['string', 'number'] : [jsonType(found)];
  const candidates = typeSamples.filter((sample) => !accepted.includes(jsonType(sample)));
  return { mutation: { steps, replacement: candidates[pick % candidates.length] }, field: path.join('.') };
}

/** Runs per property in `npm test`: each reads or writes a file or parses a document. */
const runs = 150;

export function documentProperties(target: DocumentTarget): FuzzProperty[] {
  const shaped = fc.dictionary(fc.constantFrom(...target.keys), fc.anything({ maxDepth: 2 }), { noNullPrototype: true });
  const anyDocument = fc.oneof(fc.jsonValue(), fc.anything({ maxDepth: 3, withNullPrototype: true }), shaped, fc.tuple(target.valid, mutation).map(([doc, m]) => mutated(doc, m)));
  const arbitrary = fc.asyncProperty(anyDocument, async (document) => {
    const outcome = await resultOrClearError(target, () => target.parse(document));
    if (outcome.ok) assert.ok(typeof outcome.value === 'object' && outcome.value !== null);
  });
  const namesField = fc.asyncProperty(target.valid, fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), fc.nat(), async (document, steps, pick) => {
    const { mutation: wrong, field } = wrongTyped(document, steps, pick, target.multiTyped ?? []);
    const outcome = await resultOrClearError(target, () => target.parse(mutated(document, wrong)));
    assert.ok(!outcome.ok, `accepted a value of the wrong type at ${field}`);
    assert.ok(outcome.message.includes(`${field}:`), `the refusal does not name ${field}: ${outcome.message}`);
  });
  const validAccepted = fc.asyncProperty(target.valid, async (document) => target.check(document, await target.parse(document)));
  const text = fc.oneof(
    fc.tuple(tomlish(target.keys, target.tables), fc.constant('.toml' as const)),
    fc.tuple(damagedText(target.valid, 'toml'), fc.constant('.toml' as const)),
    fc.tuple(damagedText(target.valid, 'json'), fc.constant('.json' as const)),
    fc.tuple(fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom('.toml' as const, '.json' as const)),
  );
  const fileText = fc.asyncProperty(text, async ([content, extension]) => {
    await resultOrClearError(target, () => withFile(content, extension, (path) => target.load(path)));
  });
  return [
    fuzzProperty(`${target.what}: arbitrary and mutated documents give a result or ${target.code}`, runs, arbitrary),
    fuzzProperty(`${target.what}: a value of the wrong type is refused naming its field`, runs, namesField),
    fuzzProperty(`${target.what}: valid documents are accepted as written`, Math.ceil(runs / 2), validAccepted),
    fuzzProperty(`${target.what}: file text (TOML-ish, damaged TOML and JSON, anything) gives a result or ${target.code}`, runs, fileText),
  ];
}
