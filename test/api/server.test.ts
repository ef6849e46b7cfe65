/**
 * The HTTP API end to end over real sockets: a real single-node ServerNode (temp data dir)
 * behind startApiServer on 127.0.0.1, driven with raw node:http requests so that paths and
 * bodies go out exactly as written. Checks every route's success path and JSON shape, keys
 * with slashes and non-UTF-8 bytes, compare-and-swap (412), txn, leases deleting their keys,
 * watch streams (history, live events in order, progress lines, 410 after compaction), and
 * the refusals: 404, 405, 400 naming the parameter, 413 without reading the body, malformed
 * JSON, and that none of them disturbs the server. Cluster errors (503) and unexpected
 * exceptions (500) come from the real service wrapped so that one method fails.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { startApiServer } from '../../src/api/index.js';
import { valueBytesMax } from '../../src/state/index.js';
import { QuorateError } from '../../src/util/errors.js';
import { overriding } from './overriding-service.js';
import { raw } from './raw-http.js';
import { SingleNode, singleNodeAdminToken } from './single-node.js';
import { createLogger, silentLogger } from '../../src/util/log.js';

const admin = { authorization: `Bearer ${singleNodeAdminToken}` };

let server: SingleNode;

before(async () => {
  server = await SingleNode.start({ watch: { progressIntervalMs: 200 } });
});

after(async () => {
  await server.stop();
});

function call(method: string, path: string, body?: string | Uint8Array): ReturnType<typeof raw> {
  return raw(server.url, method, path, body, admin);
}

test('put, get, list and delete, with every response carrying the revision', async () => {
  const put = await call('PUT', '/v1/kv/crud/a', 'alpha');
  assert.equal(put.status, 200);
  const revision = put.json.revision as number;
  assert.ok(revision > 1);
  await call('PUT', '/v1/kv/crud/b', 'beta');
  const got = await call('GET', '/v1/kv/crud/a');
  assert.equal(got.status, 200);
  assert.deepEqual(got.json, { key: 'crud/a', value: 'alpha', createRevision: revision, modRevision: revision, version: 1, lease: 0, revision: revision + 1 });
  assert.equal((await call('GET', '/v1/kv/crud/a?consistency=serializable')).json.value, 'alpha');
  const list = await call('GET', '/v1/kv?prefix=crud/');
  assert.deepEqual((list.json.kvs as { key: string }[]).map((kv) => kv.key), ['crud/a', 'crud/b']);
  assert.equal(list.json.count, 2);
  const limited = await call('GET', '/v1/kv?prefix=crud/&limit=1&keysOnly=true');
  assert.deepEqual(limited.json.kvs, [{ key: 'crud/a', value: '', createRevision: revision, modRevision: revision, version: 1, lease: 0 }]);
  assert.equal(limited.json.more, true);
  const old = await call('PUT', '/v1/kv/crud/a', 'alpha2');
  assert.equal((await call('GET', `/v1/kv/crud/a?revision=${revision}`)).json.value, 'alpha', 'a past revision reads the old value');
  assert.equal((await call('GET', '/v1/kv/crud/a')).json.version, 2);
  const deleted = await call('DELETE', '/v1/kv/crud/?prefix=true');
  assert.deepEqual(deleted.json, { deleted: 2, revision: (old.json.revision as number) + 1 });
  const missing = await call('GET', '/v1/kv/crud/a');
  assert.equal(missing.status, 404);
  assert.equal(missing.json.code, 'key_not_found');
  assert.match(missing.json.message as string, /"crud\/a"/);
});

test('keys are percent-encoded bytes: slashes, dots, pluses and non-UTF-8 survive', async () => {
  for (const [path, key] of [
    ['/v1/kv/a%2Fb/..', 'a/b/..'],
    ['/v1/kv/%2E%2E', '..'],
    ['/v1/kv/plus+sign%20space', 'plus+sign space'],
    ['/v1/kv/%E2%98%83', '☃'],
  ] as const) {
    assert.equal((await call('PUT', path, 'v')).status, 200, path);
    assert.equal((await call('GET', path)).json.key, key, path);
  }
  assert.equal((await call('PUT', '/v1/kv/bin%FF%00', new Uint8Array([0xfe, 0x00]))).status, 200);
  const binary = await call('GET', '/v1/kv/bin%FF%00');
  assert.equal(binary.json.keyBase64, 'Ymlu/wA=');
  assert.equal(binary.json.valueBase64, '/gA=');
  assert.equal(binary.json.key, undefined);
  const listed = await call('GET', '/v1/kv?prefix=bin%FF');
  assert.equal((listed.json.kvs as unknown[]).length, 1);
});

test('compare-and-swap through prevModRevision answers 412 with the revision on mismatch', async () => {
  const created = await call('PUT', '/v1/kv/cas?prevModRevision=0', 'one');
  assert.equal(created.status, 200, 'prevModRevision=0 creates a missing key');
  const again = await call('PUT', '/v1/kv/cas?prevModRevision=0', 'two');
  assert.equal(again.status, 412);
  assert.equal(again.json.code, 'compare_failed');
  assert.equal(again.json.revision, created.json.revision);
  assert.match(again.json.message as string, /expected it not to exist, but its modRevision is \d+/);
  const swapped = await call('PUT', `/v1/kv/cas?prevModRevision=${created.json.revision as number}`, 'two');
  assert.equal(swapped.status, 200);
  const stale = await call('PUT', `/v1/kv/cas?prevModRevision=${created.json.revision as number}`, 'three');
  assert.equal(stale.status, 412);
  assert.equal((await call('GET', '/v1/kv/cas')).json.value, 'two');
  assert.match((await call('PUT', '/v1/kv/cas-missing?prevModRevision=5', 'x')).json.message as string, /the key does not exist/);
});

test('txn: compares on value, version and revisions choose the branch atomically', async () => {
  await call('PUT', '/v1/kv/txn/a', '1');
  const body = {
    compares: [
      { key: 'txn/a', target: 'value', result: 'equal', value: '1' },
      { key: 'txn/a', target: 'version', result: 'equal', value: 1 },
      { key: 'txn/b', target: 'createRevision', result: 'equal', value: 0 },
    ],
    success: [
      { op: 'put', key: 'txn/a', value: '2' },
      { op: 'put', key: 'txn/b', valueBase64: '/w==' },
      { op: 'get', key: 'txn/', prefix: true },
    ],
    failure: [{ op: 'get', key: 'txn/a' }],
  };
  const first = await call('POST', '/v1/txn', JSON.stringify(body));
  assert.equal(first.status, 200);
  assert.equal(first.json.succeeded, true);
  const responses = first.json.responses as Record<string, unknown>[];
  assert.deepEqual(responses.map((r) => r.op), ['put', 'put', 'get']);
  assert.deepEqual((responses[2]?.kvs as Record<string, unknown>[]).map((kv) => kv.value ?? kv.valueBase64), ['2', '/w==']);
  const second = await call('POST', '/v1/txn', JSON.stringify(body));
  assert.equal(second.json.succeeded, false);
  assert.equal(second.json.revision, first.json.revision, 'a failed compare with read-only ops writes nothing');
  assert.equal(((second.json.responses as Record<string, unknown>[])[0]?.kvs as Record<string, unknown>[])[0]?.value, '2');
  const invalid = await call('POST', '/v1/txn', JSON.stringify({ success: [{ op: 'put', key: 'txn/x', value: '' }, { op: 'put', key: 'txn/x', value: '' }] }));
  assert.equal(invalid.status, 400);
  assert.equal(invalid.json.code, 'duplicate_key');
});

test('a lease: grant, attach keys, keep-alive, time to live with keys, revoke deletes them', async () => {
  const granted = await call('POST', '/v1/lease', JSON.stringify({ ttl: 60 }));
  assert.equal(granted.status, 200, granted.text);
  const id = granted.json.id as number;
  assert.ok(Number.isSafeInteger(id) && id > 0);
  assert.equal(granted.json.ttl, 60);
  await call('PUT', `/v1/kv/leased/a?lease=${id}`, 'a');
  await call('PUT', `/v1/kv/leased/b?lease=${id}`, 'b');
  const kept = await call('POST', `/v1/lease/${id}/keepalive`);
  assert.equal(kept.status, 200);
  assert.equal(kept.json.grantedTtl, 60);
  // After a keep-alive the leader counts the lease down (just after the grant it may say -1).
  const ttl = await call('GET', `/v1/lease/${id}`);
  assert.equal(ttl.json.grantedTtl, 60);
  assert.ok((ttl.json.ttl as number) > 0 && (ttl.json.ttl as number) <= 60, `ttl ${String(ttl.json.ttl)}`);
  assert.deepEqual(ttl.json.keys, [{ key: 'leased/a' }, { key: 'leased/b' }]);
  assert.equal(typeof ttl.json.revision, 'number');
  const revoked = await call('DELETE', `/v1/lease/${id}`);
  assert.deepEqual({ ...revoked.json, revision: 0 }, { id, deleted: 2, revision: 0 });
  assert.equal((await call('GET', '/v1/kv?prefix=leased/')).json.count, 0);
  assert.equal((await call('DELETE', `/v1/lease/${id}`)).status, 404);
  assert.equal((await call('PUT', `/v1/kv/leased/c?lease=${id}`, 'c')).json.code, 'lease_not_found');
  assert.equal((await call('POST', '/v1/lease', JSON.stringify({ ttl: 60, id: 4242 }))).json.id, 4242, 'a chosen id is kept');
  assert.equal((await call('POST', '/v1/lease', JSON.stringify({ ttl: 60, id: 4242 }))).status, 409);
});

test('status and health describe this node', async () => {
  const status = await call('GET', '/v1/status');
  assert.equal(status.json.id, '1');
  assert.equal(status.json.role, 'leader');
  assert.equal(typeof status.json.revision, 'number');
  const health = await call('GET', '/v1/health');
  assert.equal(health.status, 200);
  assert.deepEqual({ ...health.json, term: 0, revision: 0 }, { healthy: true, id: '1', leader: '1', role: 'leader', term: 0, revision: 0 });
});

interface Line {
  readonly type: string;
  readonly key?: string;
  readonly value?: string;
  readonly revision: number;
}

/** Open a watch stream and collect its lines until `done` says enough; then close it. */
function watchLines(path: string, done: (lines: readonly Line[]) => boolean): Promise<{ status: number; lines: Line[] }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const lines: Line[] = [];
    const req = request({ host: url.hostname, port: url.port, path, agent: false, headers: admin }, (res) => {
      let partial = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const part of parts) lines.push(JSON.parse(part) as Line);
        if (res.statusCode !== 200 || done(lines)) {
          res.destroy();
          resolve({ status: res.statusCode ?? 0, lines: res.statusCode === 200 ? lines : [JSON.parse(partial) as Line] });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, lines: res.statusCode === 200 ? lines : [JSON.parse(partial) as Line] }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('watch: history from a revision, then live events in order, each with its revision', async () => {
  const first = await call('PUT', '/v1/kv/w/a', '1');
  const from = first.json.revision as number;
  await call('PUT', '/v1/kv/w/b', '2');
  await call('PUT', '/v1/kv/other', 'not watched');
  const watching = watchLines(`/v1/watch?prefix=w/&from=${from}`, (lines) => lines.filter((l) => l.type !== 'progress').length >= 5);
  await call('PUT', '/v1/kv/w/a', '3');
  await call('DELETE', '/v1/kv/w/?prefix=true');
  const { status, lines } = await watching;
  assert.equal(status, 200);
  const events = lines.filter((l) => l.type !== 'progress');
  assert.deepEqual(
    events.map((e) => [e.type, e.key, e.value]),
    [
      ['put', 'w/a', '1'],
      ['put', 'w/b', '2'],
      ['put', 'w/a', '3'],
      ['delete', 'w/a', ''],
      ['delete', 'w/b', ''],
    ],
  );
  const revisions = events.map((e) => e.revision);
  assert.equal(revisions[0], from);
  assert.deepEqual(revisions, [...revisions].sort((a, b) => a - b), 'in revision order');
  assert.equal(revisions[3], revisions[4], 'one prefix delete is one revision');
  const firstProgress = lines.findIndex((l) => l.type === 'progress');
  assert.ok(firstProgress >= 2, 'the history comes before the first progress line');
  assert.ok((lines[firstProgress]?.revision ?? 0) >= (revisions[1] ?? Infinity));
});

test('watch: an idle stream sends progress lines; a single key; refusals before streaming', async () => {
  const { lines } = await watchLines('/v1/watch?key=idle-key', (ls) => ls.length >= 3);
  assert.deepEqual(new Set(lines.map((l) => l.type)), new Set(['progress']));
  const both = await watchLines('/v1/watch?key=a&prefix=b', () => true);
  assert.equal(both.status, 400);
  const neither = await watchLines('/v1/watch?from=1', () => true);
  assert.equal(neither.status, 400);
  const badFrom = await watchLines('/v1/watch?key=a&from=-3', () => true);
  assert.match(JSON.stringify(badFrom.lines), /from/);
});

test('watch: a compacted start revision is 410', async () => {
  await call('PUT', '/v1/kv/compact-me', 'x');
  const latest = (await call('PUT', '/v1/kv/compact-me', 'y')).json.revision as number;
  const compacted = await server.node.service.write({ op: 'compact', revision: latest - 1 });
  assert.equal(compacted.ok, true);
  const { status, lines } = await watchLines('/v1/watch?key=compact-me&from=1', () => true);
  assert.equal(status, 410);
  assert.equal(lines[0]?.type, undefined);
  assert.match(JSON.stringify(lines[0]), /compacted/);
});

test('refusals: 404, 405, 400 naming the parameter, malformed JSON', async () => {
  const notFound = await call('GET', '/v1/nothing');
  assert.deepEqual([notFound.status, notFound.json.code], [404, 'not_found']);
  const wrongMethod = await call('PATCH', '/v1/kv/k');
  assert.deepEqual([wrongMethod.status, wrongMethod.json.code, wrongMethod.headers.allow], [405, 'method_not_allowed', 'GET, PUT, DELETE']);
  const badParam = await call('GET', '/v1/kv?prefix=a&limit=ten');
  assert.equal(badParam.status, 400);
  assert.match(badParam.json.message as string, /"limit"/);
  assert.match((await call('GET', '/v1/kv/k?consistency=strong')).json.message as string, /"consistency"/);
  assert.match((await call('PUT', '/v1/kv/k?lease=abc', 'v')).json.message as string, /"lease"/);
  assert.match((await call('GET', '/v1/kv/k?revison=3')).json.message as string, /unknown parameter "revison"/);
  assert.equal((await call('GET', '/v1/kv/bad%ZZ')).status, 400);
  assert.equal((await call('GET', '/v1/lease/abc')).status, 400);
  for (const text of ['{"compares": [', 'not json', '\u00ff', '[]', '{"ttl": "10"}']) {
    const txn = await call('POST', '/v1/txn', text);
    assert.equal(txn.status, 400, text);
    assert.equal(txn.json.code, 'bad_request');
  }
  const lease = await call('POST', '/v1/lease', '{"ttl": "10"}');
  assert.equal(lease.status, 400);
  assert.match(lease.json.message as string, /ttl/);
  assert.equal((await call('POST', '/v1/lease', '{"ttl": 0}')).status, 400);
  assert.equal((await call('GET', '/v1/health')).status, 200, 'the server is still fine');
});

test('413: a value over valueBytesMax is refused, by Content-Length or while it streams', async () => {
  const big = new Uint8Array(valueBytesMax + 1);
  const declared = await call('PUT', '/v1/kv/big', big);
  assert.equal(declared.status, 413);
  assert.equal(declared.json.code, 'value_too_large');
  assert.equal(declared.headers.connection, 'close', 'the unread body is not drained');
  const streamed = await raw(server.url, 'PUT', '/v1/kv/big', big, { ...admin, 'transfer-encoding': 'chunked' });
  assert.equal(streamed.status, 413);
  const hugeTxn = await raw(server.url, 'POST', '/v1/txn', undefined, { ...admin, 'content-length': 64 * 1024 * 1024 });
  assert.deepEqual([hugeTxn.status, hugeTxn.json.code], [413, 'body_too_large']);
  assert.equal((await call('PUT', '/v1/kv/big', new Uint8Array(valueBytesMax))).status, 200, 'exactly the limit is fine');
  assert.equal((await call('GET', '/v1/kv/big')).status, 200);
});

test('cluster errors are 503; an unexpected exception is a generic 500 that is logged', async () => {
  const logged: string[] = [];
  for (const code of ['no_quorum', 'outcome_unknown', 'unavailable']) {
    const api = await startApiServer(overriding(server.node.service, { write: () => Promise.reject(new QuorateError(code, 'from the cluster')) }), { host: '127.0.0.1', port: 0, log: createLogger({ write: (line) => logged.push(line) }) });
    try {
      const answer = await raw(api.url, 'PUT', '/v1/kv/x', 'v', admin);
      assert.deepEqual([answer.status, answer.json.code], [503, code]);
      if (code === 'outcome_unknown') assert.match(answer.json.message as string, /may or may not have happened/);
    } finally {
      await api.close();
    }
  }
  assert.equal(logged.length, 0, 'cluster errors are expected, not logged');
  const api = await startApiServer(
    overriding(server.node.service, {
      status: () => {
        throw new TypeError('kaboom');
      },
    }),
    { host: '127.0.0.1', port: 0, log: createLogger({ write: (line) => logged.push(line) }) },
  );
  try {
    const answer = await raw(api.url, 'GET', '/v1/status', undefined, admin);
    assert.equal(answer.status, 500);
    assert.deepEqual(answer.json, { code: 'internal', message: 'internal server error (details are in the server log)' });
    assert.equal(logged.length, 1);
    assert.match(logged[0] ?? '', /TypeError: kaboom/);
    assert.equal((await raw(api.url, 'GET', '/v1/kv/crud-none', undefined, admin)).status, 404, 'and the server keeps serving');
  } finally {
    await api.close();
  }
});

test('health is 503 with the reason while no leader is known, or this node is not a member', async () => {
  const real = server.node.service;
  for (const [status, code] of [
    [{ ...real.status(), leader: null }, 'no_leader'],
    [{ ...real.status(), members: [] }, 'not_member'],
  ] as const) {
    const api = await startApiServer(overriding(real, { status: () => status }), { host: '127.0.0.1', port: 0, log: silentLogger });
    try {
      const answer = await raw(api.url, 'GET', '/v1/health', undefined, admin);
      assert.equal(answer.status, 503);
      assert.equal(answer.json.code, code);
      assert.equal(answer.json.healthy, false);
      assert.equal(typeof answer.json.message, 'string');
      assert.equal(answer.json.revision, status.revision);
    } finally {
      await api.close();
    }
  }
});

test('close() ends open watch streams and frees the port', async () => {
  const api = await startApiServer(server.node.service, { host: '127.0.0.1', port: 0, log: silentLogger });
  const url = new URL(api.url);
  const ended = new Promise<string>((resolve) => {
    request({ host: url.hostname, port: url.port, path: '/v1/watch?prefix=', agent: false }, (res) => {
      res.once('data', () => void api.close());
      res.on('close', () => resolve('closed'));
      res.resume();
    }).end();
  });
  assert.equal(await ended, 'closed');
  await api.close();
  await assert.rejects(raw(api.url, 'GET', '/v1/status', undefined, admin), /ECONNREFUSED/);
});
