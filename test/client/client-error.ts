/** The QuorateClientError a client call must fail with (the assertion fails otherwise). */
import assert from 'node:assert/strict';
import { QuorateClientError } from '../../src/client/index.js';

export async function clientError(promise: Promise<unknown>): Promise<QuorateClientError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof QuorateClientError, String(error));
    return error;
  }
  assert.fail('expected a QuorateClientError');
}
