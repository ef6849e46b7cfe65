/**
 * Expected conditions: typed errors with a stable `code` and a message a user can act on.
 * The API maps codes to HTTP status codes in one place; nothing else inspects messages.
 */
export class QuorateError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
    this.name = 'QuorateError';
  }
}

export function isQuorateError(error: unknown, code?: string): error is QuorateError {
  return error instanceof QuorateError && (code === undefined || error.code === code);
}
