/**
 * One mutation of a decoded document (a JSON value, a msgpack map): follow a path of child
 * choices into it and there replace the value with another or remove it. The path is a list of
 * numbers, each choosing a child modulo the number of children, so any list is a valid path
 * and shrinking it moves the mutation towards the top.
 */
import fc from 'fast-check';

export const removed = Symbol('removed');

export interface Mutation {
  readonly steps: readonly number[];
  readonly replacement: unknown;
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && !(value instanceof Date);
}

function childKey(value: unknown, step: number): string | number | undefined {
  if (!isContainer(value)) return undefined;
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys[step % Math.max(1, keys.length)];
}

function child(value: unknown, key: string | number): unknown {
  return (value as Record<string | number, unknown>)[key];
}

/** The keys that `steps` go through in `value`, and the value they lead to. */
export function follow(value: unknown, steps: readonly number[]): { readonly path: readonly (string | number)[]; readonly found: unknown } {
  const path: (string | number)[] = [];
  let found = value;
  for (const step of steps) {
    const key = childKey(found, step);
    if (key === undefined) break;
    path.push(key);
    found = child(found, key);
  }
  return { path, found };
}

/** A copy of `value` with the mutation applied where follow() leads. */
export function mutated(value: unknown, mutation: Mutation): unknown {
  const [step, ...rest] = mutation.steps;
  const key = step === undefined ? undefined : childKey(value, step);
  if (key === undefined) return mutation.replacement;
  const changed = mutated(child(value, key), { steps: rest, replacement: mutation.replacement });
  if (Array.isArray(value)) {
    const copy: unknown[] = [...(value as unknown[])];
    if (changed === removed) copy.splice(key as number, 1);
    else copy[key as number] = changed;
    return copy;
  }
  return Object.fromEntries(Object.entries(value as object).flatMap(([name, old]) => (name !== key ? [[name, old]] : changed === removed ? [] : [[name, changed]])));
}

/** Replacements: removal, values of every JSON type, and numbers at the edges of what counts accept. */
const replacement: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(removed),
  fc.constantFrom<unknown>(null, -1, 0.5, 2 ** 53, Number.NaN, '', [], {}, true, new Uint8Array(2)),
  fc.anything({ maxDepth: 2, withTypedArray: true }),
);

export const mutation: fc.Arbitrary<Mutation> = fc.record({ steps: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), replacement });
