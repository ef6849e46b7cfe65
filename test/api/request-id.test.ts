/**
 * Request ids and the API's log lines, over real sockets against a single node whose API logs
 * at debug level into an array: a caller's safe x-request-id is echoed and a missing or unsafe
 * one replaced by a generated one; each request gets one access line (method, path without
 * the query string, status, duration, its id) and never the token or the query's values; an
 * unexpected exception's error line carries the id the client was given.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApiServer } from '../../src/api/index.js';
import { isSafeRequestId, requestIdFor } from '../../src/api/request-id.js';
import { createLogger } from '../../src/util/log.js';
import { overriding } from './overriding-service.js';
import { raw } from './raw-http.js';
import { SingleNode, singleNodeAdminToken } from './single-node.js';

const admin = { authorization: `Bearer ${singleNodeAdminToken}` };

interface Line {
  readonly level: string;
  readonly msg: string;
  readonly requestId?: string;
  readonly method?: string;
  readonly path?: string;
  readonly status?: number;
  readonly durationMs?: number;
}

const lines: string[] = [];
let server: SingleNode;

before(async () => {
  server = await SingleNode.start({ log: createLogger({ minLevel: 'debug', write: (line) => lines.push(line) }) });
});

after(async () => {
  await server.stop();
});

/** The access line of the request with this id; the line is written when the response closes. */
async function accessLine(requestId: string): Promise<Line> {
  for (let i = 0; i < 100; i++) {
    const found = lines.map((line) => JSON.parse(line) as Line).find((line) => line.requestId === requestId && line.msg === 'request');
    if (found !== undefined) return found;
    await sleep(10);
  }
  assert.fail(`no access line for ${requestId}`);
}

test('only short ids of safe characters are kept', () => {
  for (const id of ['a', 'trace-42', '3f2c1b7e-9d1a-4c55-8e2b-0a1b2c3d4e5f', '01HZX3J9K.span:7', 'x'.repeat(64)]) assert.ok(isSafeRequestId(id), id);
  for (const id of ['', 'x'.repeat(65), 'has space', 'line\nbreak', 'quote"', 'slash/', 'semi;colon', 'ünïcode']) assert.ok(!isSafeRequestId(id), id);
  assert.equal(requestIdFor('trace-42'), 'trace-42');
  assert.match(requestIdFor(undefined), /^[0-9a-f]{16}$/);
  assert.match(requestIdFor('bad id'), /^[0-9a-f]{16}$/);
  assert.match(requestIdFor(['a', 'b']), /^[0-9a-f]{16}$/);
  assert.notEqual(requestIdFor(undefined), requestIdFor(undefined));
});

test('a given x-request-id is echoed and logged with the request, without the query or the token', async () => {
  const answer = await raw(server.url, 'GET', '/v1/kv?prefix=secret-prefix&limit=3', undefined, { ...admin, 'x-request-id': 'trace-42' });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers['x-request-id'], 'trace-42');
  const line = await accessLine('trace-42');
  assert.deepEqual({ level: line.level, method: line.method, path: line.path, status: line.status }, { level: 'debug', method: 'GET', path: '/v1/kv', status: 200 });
  assert.equal(typeof line.durationMs, 'number');
  const all = lines.join('');
  assert.ok(!all.includes(singleNodeAdminToken), 'the token is never logged');
  assert.ok(!all.includes('secret-prefix'), 'query values are never logged');
});

test('without an id, or with an unsafe one, the server makes one and echoes it; errors are logged too', async () => {
  const generated = await raw(server.url, 'GET', '/v1/health');
  const id = generated.headers['x-request-id'];
  assert.equal(typeof id, 'string');
  assert.match(id as string, /^[0-9a-f]{16}$/);
  assert.equal((await accessLine(id as string)).path, '/v1/health');
  const unsafe = await raw(server.url, 'GET', '/v1/nowhere', undefined, { 'x-request-id': 'x'.repeat(200) });
  assert.equal(unsafe.status, 404);
  const replaced = unsafe.headers['x-request-id'] as string;
  assert.match(replaced, /^[0-9a-f]{16}$/);
  assert.equal((await accessLine(replaced)).status, 404);
  const refused = await raw(server.url, 'GET', '/v1/status', undefined, { authorization: 'Bearer qrt_not-a-real-token', 'x-request-id': 'refused-1' });
  assert.equal(refused.status, 403);
  assert.equal(refused.headers['x-request-id'], 'refused-1');
  assert.ok(!lines.join('').includes('not-a-real-token'));
});

test("an unexpected exception's error line carries the request id the client got", async () => {
  const logged: string[] = [];
  const failing = overriding(server.node.service, {
    status: () => {
      throw new TypeError('kaboom');
    },
  });
  const api = await startApiServer(failing, { host: '127.0.0.1', port: 0, log: createLogger({ write: (line) => logged.push(line) }) });
  try {
    const answer = await raw(api.url, 'GET', '/v1/status', undefined, { ...admin, 'x-request-id': 'boom-7' });
    assert.equal(answer.status, 500);
    assert.equal(answer.headers['x-request-id'], 'boom-7');
    const errors = logged.map((line) => JSON.parse(line) as Line).filter((line) => line.level === 'error');
    const [error, ...others] = errors;
    assert.ok(error !== undefined && others.length === 0, 'one error line');
    assert.equal(error.requestId, 'boom-7');
    assert.match(error.msg, /TypeError: kaboom/);
    assert.ok(!logged.some((line) => line.includes('"debug"')), 'no access lines at the default level');
  } finally {
    await api.close();
  }
});
