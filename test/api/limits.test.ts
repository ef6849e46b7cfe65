/**
 * The API's limits on greedy and slow clients (issue 9), over real sockets against API servers
 * with small limits in front of one real single node: connections over the per-address or the
 * total cap are closed at once while others are served; a principal's watch streams and live
 * leases are capped (429 with the limit in the message) without touching other principals, and
 * a slot comes back when a stream closes or a lease is revoked or expires; a watch reader that
 * never reads is cut off while large writes keep being acknowledged promptly; a client that
 * sends its headers or body too slowly is cut off by requestTimeoutMs; and refused credentials
 * are counted in GET /v1/status, except by a node that cannot check them yet. Sources other than 127.0.0.1 are 127.0.51.x only.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApiServer, type ApiCountersJson, type ApiServer, type ApiServerOptions } from '../../src/api/index.js';
import { createCa, issueNodeCert } from '../../src/cluster/certs.js';
import { raw, type RawAnswer } from './raw-http.js';
import { SingleNode, singleNodeAdminToken } from './single-node.js';
import { overriding } from './overriding-service.js';
import { AccessControl } from '../../src/server/access.js';
import { ClusterStateMachine } from '../../src/state/index.js';
import { createLogger, silentLogger } from '../../src/util/log.js';

const admin = { authorization: `Bearer ${singleNodeAdminToken}` };

let server: SingleNode;

before(async () => {
  server = await SingleNode.start();
});

after(async () => {
  await server.stop();
});

/** An API server over the single node with these limits, closed when the test ends. */
async function apiWith(t: { after(fn: () => Promise<unknown>): void }, options: Partial<ApiServerOptions>): Promise<ApiServer> {
  const api = await startApiServer(server.node.service, { host: '127.0.0.1', port: 0, log: silentLogger, ...options });
  t.after(() => api.close());
  return api;
}

async function counters(api: ApiServer): Promise<ApiCountersJson> {
  const status = await raw(api.url, 'GET', '/v1/status', undefined, admin);
  assert.equal(status.status, 200, status.text);
  return status.json.api as ApiCountersJson;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** A raw connection from `from` that asks for health: served (and kept alive) or closed unanswered. */
function healthConnection(api: ApiServer, from: string): Promise<{ readonly socket: Socket; readonly served: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ host: api.address.host, port: api.address.port, localAddress: from });
    socket.on('error', () => undefined);
    socket.once('data', (chunk: Buffer) => resolve({ socket, served: chunk.toString('latin1').startsWith('HTTP/1.1 200') }));
    socket.once('close', () => resolve({ socket, served: false }));
    socket.write('GET /v1/health HTTP/1.1\r\nhost: quorate\r\n\r\n');
  });
}

test('connections over the per-address or the total cap are closed at once; the others are served', async (t) => {
  const api = await apiWith(t, { connections: { connectionsMax: 5, connectionsPerAddressMax: 3 } });
  const open: Socket[] = [];
  t.after(() => {
    for (const socket of open) socket.destroy();
  });
  const served = async (from: string): Promise<boolean> => {
    const connection = await healthConnection(api, from);
    open.push(connection.socket);
    return connection.served;
  };
  for (let i = 0; i < 3; i++) assert.equal(await served('127.0.51.1'), true, `connection ${i + 1} from 127.0.51.1`);
  assert.equal(await served('127.0.51.1'), false, 'a fourth from the same address is closed');
  assert.equal(await served('127.0.51.2'), true, 'another address is served');
  assert.equal(await served('127.0.51.3'), true, 'up to the total');
  assert.equal(await served('127.0.51.4'), false, 'a sixth connection is over the total');
  for (const socket of open.splice(0)) socket.destroy();
  // Closed connections give their slots back.
  // Until the server has seen the closes, a status request may itself be over the total.
  let statusRefused = 0;
  const settled = async (): Promise<ApiCountersJson | null> =>
    counters(api).catch(() => {
      statusRefused++;
      return null;
    });
  await until('the closed connections are counted out', async () => (await settled())?.connections.open === 1);
  assert.deepEqual((await counters(api)).connections, { open: 1, refused: 2 + statusRefused });
  for (let i = 0; i < 3; i++) assert.equal(await served('127.0.51.1'), true, `again from 127.0.51.1 (${i + 1})`);
});

test('over HTTPS a connection over the cap is reset before its handshake, and the server keeps serving', async (t) => {
  const ca = await createCa('limits test CA');
  const cert = await issueNodeCert(ca, { nodeId: 'node-1', ipAddresses: ['127.0.0.1'] });
  const api = await apiWith(t, { connections: { connectionsPerAddressMax: 1 }, tls: { certPem: cert.certPem, keyPem: cert.keyPem } });
  const handshake = (): Promise<TLSSocket | string> =>
    new Promise((resolve) => {
      const tcp = connect({ host: api.address.host, port: api.address.port, localAddress: '127.0.51.9' });
      const socket = tlsConnect({ socket: tcp, host: api.address.host, ca: ca.certPem });
      socket.once('secureConnect', () => resolve(socket));
      socket.once('error', (error: Error) => resolve(error.message));
    });
  const first = await handshake();
  assert.ok(first instanceof TLSSocket, typeof first === 'string' ? first : 'served');
  const second = await handshake();
  assert.equal(typeof second, 'string', 'the second connection from the address fails');
  first.destroy();
  await until('the address may connect again', async () => {
    const again = await handshake();
    if (typeof again === 'string') return false;
    again.destroy();
    return true;
  });
});

test('the default connection caps leave room for many keep-alive clients from one address', async (t) => {
  // The benchmark keeps up to 1024 connections to one endpoint, and on loopback all clients share 127.0.0.1.
  const api = await apiWith(t, {});
  const sockets = await Promise.all(Array.from({ length: 300 }, () => healthConnection(api, '127.0.51.5')));
  t.after(() => {
    for (const { socket } of sockets) socket.destroy();
  });
  assert.equal(sockets.filter(({ served }) => served).length, 300);
});

/** Opens a watch stream; resolves with its status once the headers are in (the stream stays open). */
function openWatch(api: ApiServer, token: string, streams: (() => void)[]): Promise<RawAnswer | 200> {
  const url = new URL(api.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: '/v1/watch?prefix=limits/', agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode === 200) {
        streams.push(() => res.destroy());
        res.resume();
        resolve(200);
        return;
      }
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function readToken(): Promise<string> {
  const created = await raw(server.url, 'POST', '/v1/acl/tokens', JSON.stringify({ role: 'write' }), admin);
  assert.equal(created.status, 200, created.text);
  return created.json.token as string;
}

test('a principal may hold streamsPerPrincipalMax watch streams; other principals are not affected', async (t) => {
  const api = await apiWith(t, { watch: { streamsPerPrincipalMax: 2 } });
  const streams: (() => void)[] = [];
  t.after(() => {
    for (const close of streams) close();
  });
  assert.equal(await openWatch(api, singleNodeAdminToken, streams), 200);
  assert.equal(await openWatch(api, singleNodeAdminToken, streams), 200);
  const refused = await openWatch(api, singleNodeAdminToken, streams);
  assert.notEqual(refused, 200);
  if (refused === 200) return;
  assert.deepEqual([refused.status, refused.json.code], [429, 'too_many_watches']);
  assert.match(refused.json.message as string, /already has 2 watch streams open on this node \(streamsPerPrincipalMax is 2\); close streams/);
  assert.equal(await openWatch(api, await readToken(), streams), 200, 'another token has its own allowance');
  streams.shift()?.();
  await until('a closed stream frees its slot', async () => (await openWatch(api, singleNodeAdminToken, streams)) === 200);
  const watches = (await counters(api)).watches;
  assert.deepEqual({ open: watches.open, refused: watches.refused }, { open: 3, refused: 1 });
});

function grant(api: ApiServer, ttl: number, token = singleNodeAdminToken): Promise<RawAnswer> {
  return raw(api.url, 'POST', '/v1/lease', JSON.stringify({ ttl }), { authorization: `Bearer ${token}` });
}

test('a principal may hold leasesPerPrincipalMax live leases; revoked and expired ones free their slots', async (t) => {
  const api = await apiWith(t, { leasesPerPrincipalMax: 3 });
  const held = [await grant(api, 60), await grant(api, 60), await grant(api, 1)];
  assert.deepEqual(held.map((answer) => answer.status), [200, 200, 200]);
  const refused = await grant(api, 60);
  assert.deepEqual([refused.status, refused.json.code], [429, 'too_many_leases']);
  assert.match(refused.json.message as string, /already holds 3 leases granted through this node \(leasesPerPrincipalMax\); revoke leases/);
  assert.equal((await grant(api, 60, await readToken())).status, 200, 'another token has its own allowance');
  // A revoke through this API frees a slot at once.
  assert.equal((await raw(api.url, 'DELETE', `/v1/lease/${held[0]?.json.id as number}`, undefined, admin)).status, 200);
  const replacement = await grant(api, 60);
  assert.equal(replacement.status, 200);
  assert.equal((await grant(api, 60)).status, 429);
  // The 1 s lease expires on the leader's clock; the ledger finds that out when it is at the limit.
  await until('the expired lease frees its slot', async () => (await grant(api, 60)).status === 200, 5000);
  assert.equal((await grant(api, 60)).status, 429);
  assert.equal((await counters(api)).leases.tracked, 4, "three of the admin's and the other token's one");
});

test('a watch reader that never reads is cut off while large writes keep being acknowledged promptly', async (t) => {
  const bufferedBytesMax = 1024 * 1024;
  const logged: string[] = [];
  const api = await startApiServer(server.node.service, { host: '127.0.0.1', port: 0, log: createLogger({ write: (line) => logged.push(line) }), watch: { bufferedBytesMax } });
  t.after(() => api.close());
  // A raw socket that sends the request and then never reads what comes back.
  const stalled = connect({ host: api.address.host, port: api.address.port, localAddress: '127.0.51.6' });
  stalled.on('error', () => undefined);
  stalled.pause();
  t.after(() => {
    stalled.destroy();
  });
  stalled.write(`GET /v1/watch?prefix=stalled/ HTTP/1.1\r\nhost: quorate\r\nauthorization: ${admin.authorization}\r\n\r\n`);
  await until('the stream is open', async () => (await counters(api)).watches.open === 1);
  const value = new Uint8Array(256 * 1024).fill(0x61);
  let written = 0;
  let slowestMs = 0;
  // Far more than the kernel's socket buffers and bufferedBytesMax together, unless the stream is cut.
  while (written < 64 * 1024 * 1024 && (await counters(api)).watches.cutBehind === 0) {
    const started = performance.now();
    assert.equal((await raw(server.url, 'PUT', `/v1/kv/stalled/${written}`, value, admin)).status, 200);
    slowestMs = Math.max(slowestMs, performance.now() - started);
    written += value.byteLength;
  }
  const after = await counters(api);
  assert.equal(after.watches.cutBehind, 1, `the stalled stream is cut (after ${written} bytes of writes)`);
  assert.equal(after.watches.open, 0);
  assert.equal(after.connections.open, 1, 'and its connection is closed: only the status request is open');
  assert.ok(slowestMs < 1000, `every write was acknowledged promptly (slowest ${Math.round(slowestMs)} ms)`);
  assert.ok(logged.some((message) => /more than 1048576 bytes behind \(bufferedBytesMax\)/.test(message)), logged.join('\n'));
  for (let i = 0; i < 4; i++) assert.equal((await raw(server.url, 'PUT', `/v1/kv/stalled/after-${i}`, value, admin)).status, 200);
  await raw(server.url, 'DELETE', '/v1/kv/stalled/?prefix=true', undefined, admin);
});

/** Sends `head` and then one byte of `trickle` every 100 ms; resolves with what came back and when the server closed. */
function trickle(api: ApiServer, head: string, rest: string): Promise<{ readonly answer: string; readonly closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host: api.address.host, port: api.address.port, localAddress: '127.0.51.7' });
    let answer = '';
    let sent = 0;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.write(head);
    const timer = setInterval(() => {
      if (sent < rest.length && socket.writable) socket.write(rest.charAt(sent++));
    }, 100);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, closedAfterMs: performance.now() - started });
    });
  });
}

test('a client that sends its headers or its body too slowly is cut off after requestTimeoutMs', async (t) => {
  const api = await apiWith(t, { requestTimeoutMs: 500 });
  const slowHeaders = trickle(api, 'GET /v1/status HTTP/1.1\r\nhost: quorate\r\n', `x-slow: ${'.'.repeat(100)}\r\n\r\n`);
  const body = 'x'.repeat(100);
  const slowBody = trickle(api, `PUT /v1/kv/limits/slow HTTP/1.1\r\nhost: quorate\r\nauthorization: ${admin.authorization}\r\ncontent-length: ${body.length}\r\n\r\n`, body);
  // Meanwhile a prompt client is served as usual.
  assert.equal((await raw(api.url, 'GET', '/v1/status', undefined, admin)).status, 200);
  for (const [what, cut] of [['headers', await slowHeaders], ['body', await slowBody]] as const) {
    assert.ok(cut.closedAfterMs >= 450 && cut.closedAfterMs < 3000, `slow ${what}: closed after ${Math.round(cut.closedAfterMs)} ms`);
    assert.match(cut.answer, /^HTTP\/1\.1 408 Request Timeout\r\n/, `slow ${what}`);
  }
  assert.equal((await raw(api.url, 'GET', '/v1/kv/limits/slow', undefined, admin)).status, 404, 'the slow body was never written');
});

test('refused credentials are counted by code in GET /v1/status', async (t) => {
  const api = await apiWith(t, {});
  const before = (await counters(api)).authFailures;
  assert.equal((await raw(api.url, 'GET', '/v1/kv/x')).status, 401);
  assert.equal((await raw(api.url, 'GET', '/v1/kv/x', undefined, { authorization: 'Bearer nonsense' })).status, 403);
  const reader = (await raw(api.url, 'POST', '/v1/acl/tokens', JSON.stringify({ role: 'read' }), admin)).json.token as string;
  assert.equal((await raw(api.url, 'PUT', '/v1/kv/x', 'v', { authorization: `Bearer ${reader}` })).status, 403, 'too small a role');
  let status = 0;
  let guesses = 0;
  while (status !== 429 && guesses < 30) {
    status = (await statusFrom(api, '127.0.51.8', 'guess')).status;
    guesses++;
  }
  assert.equal(status, 429);
  const counted = (await counters(api)).authFailures;
  assert.deepEqual(
    { unauthorized: counted.unauthorized - before.unauthorized, forbidden: counted.forbidden - before.forbidden, too_many_attempts: counted.too_many_attempts - before.too_many_attempts },
    { unauthorized: 1, forbidden: 2 + guesses - 1, too_many_attempts: 1 },
  );
});

test('a node that has not received the cluster state answers 503 not_ready and counts no failed attempt', async (t) => {
  // A joining node's state before the leader's snapshot: no members, no tokens. Its clients
  // (often one load balancer address) must not be locked out for what is no mistake of theirs.
  const joining = new ClusterStateMachine();
  const access = new AccessControl({ state: joining, propose: () => Promise.reject(new Error('not used')), now: () => 0 });
  const api = await startApiServer(overriding(server.node.service, { authenticate: (token) => access.authenticate(token) }), { host: '127.0.0.1', port: 0, log: silentLogger });
  t.after(() => api.close());
  for (let i = 0; i < 30; i++) {
    const answer = await statusFrom(api, '127.0.51.9', singleNodeAdminToken);
    assert.equal(answer.status, 503, `request ${i + 1}`);
    assert.equal(answer.code, 'not_ready');
  }
  assert.match((await statusFrom(api, '127.0.51.9', singleNodeAdminToken)).message, /has not received the cluster state yet/);
  assert.equal((await raw(api.url, 'GET', '/v1/kv/x')).status, 401, 'no token is still the caller\'s mistake');
});

/** GET /v1/status from `localAddress` with `token`: the status code and the error's code and message. */
function statusFrom(api: ApiServer, localAddress: string, token: string): Promise<{ status: number; code: string; message: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(api.url);
    const req = request({ host: url.hostname, port: url.port, path: '/v1/status', agent: false, localAddress, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const error = JSON.parse(body) as { code?: string; message?: string };
        resolve({ status: res.statusCode ?? 0, code: error.code ?? '', message: error.message ?? '' });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
