/**
 * The one mapping from error codes to HTTP statuses (errors.ts), checked directly: the
 * service's cluster errors are 503 (outcome_unknown saying the write may have happened), each
 * kind of state machine failure gets its status, API errors keep their extra fields, and
 * anything unexpected is a generic 500 whose details go only to the log.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError, errorReply, fromKvFailure } from '../../src/api/errors.js';
import type { KvErrorCode } from '../../src/state/index.js';
import { QuorateError } from '../../src/util/errors.js';

function replyFor(error: unknown): { status: number; body: Readonly<Record<string, unknown>>; logged: string[] } {
  const logged: string[] = [];
  return { ...errorReply(error, (message) => logged.push(message)), logged };
}

test('cluster errors from the service are 503, and outcome_unknown warns about the write', () => {
  for (const code of ['no_quorum', 'unavailable', 'outcome_unknown']) {
    const { status, body, logged } = replyFor(new QuorateError(code, 'leader changed'));
    assert.equal(status, 503, code);
    assert.equal(body.code, code);
    assert.deepEqual(logged, []);
  }
  assert.match(String(replyFor(new QuorateError('outcome_unknown', 'leader changed')).body.message), /may or may not have happened.*leader changed/);
});

test('state machine failures map by kind', () => {
  const expected: Record<KvErrorCode, number> = {
    bad_command: 400,
    compacted: 410,
    future_revision: 400,
    empty_key: 400,
    key_too_large: 413,
    value_too_large: 413,
    key_not_found: 404,
    not_found: 404,
    value_provided: 400,
    lease_provided: 400,
    lease_not_found: 404,
    lease_exists: 409,
    invalid_lease_id: 400,
    invalid_ttl: 400,
    too_many_leases: 429,
    invalid_argument: 400,
    too_many_results: 400,
    too_many_ops: 400,
    duplicate_key: 400,
  };
  for (const [code, status] of Object.entries(expected)) {
    const reply = replyFor(fromKvFailure({ ok: false, code: code as KvErrorCode, message: `m-${code}` }));
    assert.equal(reply.status, status, code);
    assert.deepEqual(reply.body, { code, message: `m-${code}` });
  }
});

test("the API's own errors carry their details", () => {
  assert.deepEqual(replyFor(new ApiError('compare_failed', 'nope', { revision: 9 })), { status: 412, body: { revision: 9, code: 'compare_failed', message: 'nope' }, logged: [] });
  assert.equal(replyFor(new ApiError('method_not_allowed', 'x')).status, 405);
  assert.equal(replyFor(new ApiError('body_too_large', 'x')).status, 413);
  assert.equal(replyFor(new ApiError('no_leader', 'x')).status, 503);
});

test('anything unexpected is a generic 500 and goes to the log', () => {
  for (const error of [new TypeError('secret internals'), 'a string', new QuorateError('some_new_code', 'secret internals')]) {
    const { status, body, logged } = replyFor(error);
    assert.equal(status, 500);
    assert.equal(body.code, 'internal');
    assert.doesNotMatch(String(body.message), /secret/);
    assert.equal(logged.length, 1);
  }
  assert.match(replyFor(new TypeError('boom')).logged[0] ?? '', /TypeError: boom\n\s+at /, 'the log gets the stack');
});
