/**
 * Invariant checks. A failed assertion is a bug in Quorate, never a user mistake, so it throws
 * AssertionError and is never caught (DESIGN.md section 2, rule 4).
 */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

export function assert(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new AssertionError(typeof message === 'string' ? message : message());
  }
}

export function unreachable(value: never): never {
  throw new AssertionError(`unreachable: ${String(value)}`);
}
