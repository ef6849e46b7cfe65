/**
 * QuorateClient against a real single-node server (test/api/single-node.ts) over real
 * sockets: every method's results and types, binary keys and values, errors carrying the
 * API's code and message, and the endpoint rules: an unreachable endpoint (refused, or one
 * that never accepts) is skipped, an HTTP error status is not, a connection that breaks after
 * a write was sent is outcome_unknown (a read goes on to the next endpoint), a silent server
 * is a timeout. The misbehaving endpoints are small raw TCP servers made for that purpose.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { startApiServer } from '../../src/api/index.js';
import { QuorateClient } from '../../src/client/index.js';
import { QuorateError } from '../../src/util/errors.js';
import { overriding } from '../api/overriding-service.js';
import { freePort, SingleNode, singleNodeAdminToken } from '../api/single-node.js';
import { clientError } from './client-error.js';
import { silentLogger } from '../../src/util/log.js';

let server: SingleNode;
let client: QuorateClient;

before(async () => {
  server = await SingleNode.start();
  client = new QuorateClient({ token: singleNodeAdminToken, endpoints: [server.url] });
});

after(async () => {
  await server.stop();
});

const text = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes);


/** A TCP server that does `onSocket` to every connection; tracks sockets to close them all. */
async function misbehaving(onSocket: (socket: Socket) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const tcp: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const address = tcp.address();
  assert.ok(typeof address === 'object' && address !== null);
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => tcp.close(() => resolve()));
    },
  };
}

test('put, get, list, delete with revisions and binary data', async () => {
  const put = await client.put('c/a', 'alpha');
  await client.put(new Uint8Array([0x63, 0x2f, 0xff]), new Uint8Array([0, 1, 2]));
  const got = await client.get('c/a');
  assert.ok(got !== null);
  assert.equal(text(got.value), 'alpha');
  assert.equal(got.modRevision, put.revision);
  assert.equal(got.version, 1);
  assert.equal(await client.get('c/missing'), null);
  const list = await client.list('c/');
  assert.deepEqual(list.kvs.map((kv) => [...kv.key]), [[0x63, 0x2f, 0x61], [0x63, 0x2f, 0xff]]);
  assert.deepEqual([...(list.kvs[1]?.value ?? [])], [0, 1, 2]);
  assert.equal(list.count, 2);
  assert.equal((await client.list('c/', { limit: 1, keysOnly: true, consistency: 'serializable' })).more, true);
  assert.equal((await client.list('')).count >= 2, true, 'the empty prefix lists every key');
  assert.equal(text((await client.get('c/a', { revision: put.revision }))?.value), 'alpha');
  const deleted = await client.delete('c/', { prefix: true });
  assert.equal(deleted.deleted, 2);
  assert.ok(deleted.revision > put.revision);
});

test('compare-and-swap and txn', async () => {
  const created = await client.put('cas', 'one', { prevModRevision: 0 });
  const refused = await clientError(client.put('cas', 'two', { prevModRevision: 0 }));
  assert.equal(refused.code, 'compare_failed');
  assert.equal(refused.status, 412);
  assert.equal(refused.revision, created.revision);
  await client.put('cas', 'two', { prevModRevision: created.revision });
  const txn = await client.txn({
    compares: [{ key: 'cas', target: 'value', result: 'equal', value: 'two' }],
    success: [{ op: 'put', key: 'cas', value: 'three' }, { op: 'get', key: 'cas' }],
    failure: [{ op: 'get', key: 'cas' }],
  });
  assert.equal(txn.succeeded, true);
  const read = txn.responses[1];
  assert.ok(read?.op === 'get');
  assert.equal(text(read.kvs[0]?.value), 'three');
  const failed = await client.txn({ compares: [{ key: 'cas', target: 'version', result: 'greater', value: 99 }], failure: [{ op: 'delete', key: 'cas' }] });
  assert.equal(failed.succeeded, false);
  assert.deepEqual(failed.responses, [{ op: 'delete', deleted: 1, revision: failed.revision }]);
});

test('leases: grant, attach, time to live, keep-alive, revoke', async () => {
  const lease = await client.leaseGrant(30);
  await client.put('leased', 'v', { lease: lease.id });
  const ttl = await client.leaseTimeToLive(lease.id);
  assert.deepEqual(ttl.keys.map(text), ['leased']);
  assert.equal(ttl.grantedTtl, 30);
  assert.equal((await client.leaseKeepAlive(lease.id)).grantedTtl, 30);
  assert.deepEqual((await client.leaseRevoke(lease.id)).deleted, 1);
  assert.equal(await client.get('leased'), null);
  const gone = await clientError(client.leaseRevoke(lease.id));
  assert.deepEqual([gone.code, gone.status], ['lease_not_found', 404]);
});

test('status and health', async () => {
  const status = await client.status();
  assert.equal(status.role, 'leader');
  const health = await client.health();
  assert.equal(health.healthy, true);
  assert.equal(health.leader, '1');
});

test('errors carry the API code and message', async () => {
  const tooLarge = await clientError(client.put('k', new Uint8Array(2 * 1024 * 1024)));
  assert.deepEqual([tooLarge.code, tooLarge.status], ['value_too_large', 413]);
  const badTxn = await clientError(client.txn({ success: [{ op: 'put', key: '', value: 'v' }] }));
  assert.equal(badTxn.code, 'empty_key');
  assert.throws(() => new QuorateClient({ token: singleNodeAdminToken, endpoints: ['ftp://x'] }), /must start with http:\/\//);
  assert.throws(() => new QuorateClient({ token: singleNodeAdminToken, endpoints: [] }), /no endpoints/);
});

test('an unreachable endpoint is skipped; when all are, the error lists each one tried', async () => {
  const deadPort = await freePort();
  const failover = new QuorateClient({ token: singleNodeAdminToken, endpoints: [`http://127.0.0.1:${deadPort}`, server.url] });
  await failover.put('failover', 'ok');
  assert.equal(text((await failover.get('failover'))?.value), 'ok');
  const nowhere = new QuorateClient({ token: singleNodeAdminToken, endpoints: [`http://127.0.0.1:${deadPort}`, 'http://127.0.0.1:1'] });
  const error = await clientError(nowhere.get('x'));
  assert.equal(error.code, 'unreachable');
  assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${deadPort} \\(connection refused\\).*127\\.0\\.0\\.1:1 \\(connection refused\\)`));
});

test('an HTTP error status is an answer: the next endpoint is not tried', async () => {
  const refusing = await startApiServer(overriding(server.node.service, { write: () => Promise.reject(new QuorateError('no_quorum', 'no quorum here')) }), { host: '127.0.0.1', port: 0, log: silentLogger });
  try {
    const twoEndpoints = new QuorateClient({ token: singleNodeAdminToken, endpoints: [refusing.url, server.url] });
    const error = await clientError(twoEndpoints.put('not-retried', 'v'));
    assert.deepEqual([error.code, error.status], ['no_quorum', 503]);
    assert.equal(await client.get('not-retried'), null);
  } finally {
    await refusing.close();
  }
});

test('a connection broken after sending: a write is outcome_unknown, a read tries the next endpoint', async () => {
  const breaker = await misbehaving((socket) => socket.once('data', () => socket.resetAndDestroy()));
  try {
    const twoEndpoints = new QuorateClient({ token: singleNodeAdminToken, endpoints: [breaker.url, server.url] });
    const error = await clientError(twoEndpoints.put('maybe', 'v'));
    assert.equal(error.code, 'outcome_unknown');
    assert.match(error.message, /may or may not have happened/);
    await client.put('read-me', 'v');
    assert.equal(text((await twoEndpoints.get('read-me'))?.value), 'v');
  } finally {
    await breaker.close();
  }
});

test('a server that accepts but never answers is a timeout', async () => {
  const silent = await misbehaving(() => undefined);
  try {
    const impatient = new QuorateClient({ token: singleNodeAdminToken, endpoints: [silent.url, server.url], requestTimeoutMs: 300 });
    const error = await clientError(impatient.get('x'));
    assert.equal(error.code, 'timeout');
    assert.equal(error.status, null);
  } finally {
    await silent.close();
  }
});
