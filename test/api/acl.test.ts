/**
 * Every API route against a real single node (issue 9): without a token 401; with a revoked
 * token, a join token or a token whose role is too small 403; with a large enough role the
 * route runs (whatever it then answers). A join token is no API token and an API token no join
 * token. A prefix limits every KV route, transactions and watches included. Failed attempts
 * from one address are cut off with 429.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { routeTable } from '../../src/api/routes.js';
import { QuorateClient } from '../../src/client/index.js';
import { formatJoinToken, newJoinToken, parseJoinToken } from '../../src/cluster/join-token.js';
import { SingleNode, singleNodeAdminToken } from './single-node.js';

let server: SingleNode;
let admin: QuorateClient;

before(async () => {
  server = await SingleNode.start();
  admin = new QuorateClient({ endpoints: [server.url], token: singleNodeAdminToken });
});

after(async () => {
  await server.stop();
});

/** The status only (some routes answer with bytes or streams); the body for the message checks. */
/**
 * `from` is the source address: failed attempts are counted per address (and cut off after 20 a
 * minute), so each test sends from addresses of its own.
 */
function call(method: string, path: string, token: string | null, body?: string, from = '127.0.0.1'): Promise<{ status: number; text: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = token === null ? {} : { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
    const req = request({ host: url.hostname, port: url.port, method, path, agent: false, headers, localAddress: from }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => {
        text += chunk;
        // A stream that started (a watch) has answered the question; stop reading.
        if (text.length > 0 && res.statusCode === 200 && path.startsWith('/v1/watch')) res.destroy();
      });
      res.on('close', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A concrete request for each route pattern (ids that do not exist are fine: the check comes first). */
const examples: readonly { readonly method: string; readonly path: string; readonly body?: string }[] = [
  { method: 'GET', path: '/v1/kv?prefix=acl' },
  { method: 'GET', path: '/v1/kv/acl-key' },
  { method: 'PUT', path: '/v1/kv/acl-key', body: 'v' },
  { method: 'DELETE', path: '/v1/kv/acl-key' },
  { method: 'POST', path: '/v1/txn', body: '{}' },
  { method: 'POST', path: '/v1/lease', body: '{"ttl": 30}' },
  { method: 'GET', path: '/v1/lease/12345' },
  { method: 'DELETE', path: '/v1/lease/12345' },
  { method: 'POST', path: '/v1/lease/12345/keepalive' },
  { method: 'GET', path: '/v1/watch' },
  { method: 'GET', path: '/v1/events?from=0' },
  { method: 'GET', path: '/v1/status' },
  { method: 'GET', path: '/metrics' },
  { method: 'GET', path: '/v1/cluster/status' },
  { method: 'GET', path: '/v1/cluster/ca' },
  { method: 'GET', path: '/v1/cluster/ca/rotation' },
  { method: 'POST', path: '/v1/cluster/ca/rotation' },
  { method: 'GET', path: '/v1/cluster/join-tokens' },
  { method: 'POST', path: '/v1/cluster/join-tokens', body: '{}' },
  { method: 'DELETE', path: '/v1/cluster/join-tokens/0000000000000000' },
  { method: 'POST', path: '/v1/cluster/join', body: '{}' },
  { method: 'DELETE', path: '/v1/cluster/members/nobody' },
  { method: 'POST', path: '/v1/cluster/leave' },
  { method: 'POST', path: '/v1/cluster/arbiters', body: '{}' },
  { method: 'GET', path: '/v1/acl/tokens' },
  { method: 'POST', path: '/v1/acl/tokens', body: '{}' },
  { method: 'DELETE', path: '/v1/acl/tokens/0000000000000000' },
  { method: 'GET', path: '/v1/snapshot' },
  { method: 'GET', path: '/v1/health' },
  { method: 'GET', path: '/v1/jobs' },
  { method: 'POST', path: '/v1/jobs', body: '{}' },
  { method: 'GET', path: '/v1/jobs/nothing' },
  { method: 'DELETE', path: '/v1/jobs/nothing' },
  { method: 'GET', path: '/v1/nodes' },
  { method: 'POST', path: '/v1/nodes/nobody/drain', body: '{}' },
  { method: 'POST', path: '/v1/nodes/nobody/eligibility', body: '{}' },
  { method: 'POST', path: '/v1/nodes/nobody/fence' },
  { method: 'POST', path: '/v1/nodes/nobody/confirm-dead' },
  { method: 'GET', path: '/v1/fencing' },
  { method: 'PUT', path: '/v1/fencing', body: '{}' },
  { method: 'POST', path: '/v1/agent/heartbeat', body: '{}' },
  { method: 'GET', path: '/v1/allocations/nothing/logs' },
  { method: 'GET', path: '/ui' },
  { method: 'GET', path: '/ui/app.js' },
];

const below = { read: null, write: 'read', operate: 'write', admin: 'operator' } as const;
const enough = { read: 'read', write: 'write', operate: 'operator', admin: 'admin' } as const;

test('every route: no token 401; revoked, join or too small a token 403; a large enough role gets through', async () => {
  const table = routeTable();
  for (const route of table) {
    assert.ok(
      examples.some((e) => e.method === route.method && route.pattern.test(e.path.split('?')[0] ?? '')),
      `no example for ${route.method} ${String(route.pattern)}`,
    );
  }
  const tokens = {
    read: (await admin.createAclToken('read')).token,
    write: (await admin.createAclToken('write')).token,
    operator: (await admin.createAclToken('operator')).token,
    admin: (await admin.createAclToken('admin')).token,
  };
  const revoked = await admin.createAclToken('admin');
  await admin.revokeAclToken(revoked.id);
  // A TOML node holds no CA key to issue join tokens; one of the right shape shows the refusal.
  const joinToken = formatJoinToken(newJoinToken(`sha256:${'ab'.repeat(32)}`));
  for (const [i, example] of examples.entries()) {
    const from = `127.0.77.${i + 1}`;
    const route = table.find((r) => r.method === example.method && r.pattern.test(example.path.split('?')[0] ?? ''));
    assert.ok(route !== undefined);
    const what = `${example.method} ${example.path}`;
    if (route.access === 'public') {
      assert.notEqual((await call(example.method, example.path, null, example.body, from)).status, 401, `${what} is public`);
      continue;
    }
    const anonymous = await call(example.method, example.path, null, example.body, from);
    assert.equal(anonymous.status, 401, `${what} without a token`);
    assert.match(anonymous.text, /needs a token \(Authorization: Bearer <token>\)/);
    const withRevoked = await call(example.method, example.path, revoked.token, example.body, from);
    assert.equal(withRevoked.status, 403, `${what} with a revoked token`);
    assert.match(withRevoked.text, new RegExp(`API token ${revoked.id} was revoked at`));
    const withJoin = await call(example.method, example.path, joinToken, example.body, from);
    assert.equal(withJoin.status, 403, `${what} with a join token`);
    assert.match(withJoin.text, /that is a join token: it admits a node/);
    const lower = below[route.access];
    if (lower !== null) {
      const small = await call(example.method, example.path, tokens[lower], example.body, from);
      assert.equal(small.status, 403, `${what} with role ${lower}`);
      assert.match(small.text, new RegExp(`this token has the role ${lower}, which may not`));
    }
    const big = await call(example.method, example.path, tokens[enough[route.access]], example.body, from);
    assert.ok(big.status !== 401 && big.status !== 403, `${what} with role ${enough[route.access]}: ${big.status} ${big.text}`);
  }
  const listed = await admin.listAclTokens();
  assert.deepEqual(listed.find((t) => t.id === revoked.id)?.state, 'revoked');
  assert.ok(!JSON.stringify(listed).includes(tokens.read.slice(-32)), 'no secret is listed');
});

test('an API token is no join token; a mistyped token is refused', async () => {
  const apiToken = (await admin.createAclToken('admin')).token;
  assert.throws(() => parseJoinToken(apiToken), /the join token is damaged \(it does not start with qrt1_\)/);
  const mistyped = await call('GET', '/v1/status', null, undefined, '127.0.78.1');
  assert.equal(mistyped.status, 401);
  const wrong = await call('GET', '/v1/status', `${apiToken.slice(0, -1)}${apiToken.endsWith('A') ? 'B' : 'A'}`, undefined, '127.0.78.1');
  assert.equal(wrong.status, 403);
  assert.match(wrong.text, /the token is not valid for this cluster/);
});

test('a prefix limits keys, ranges, transactions and watches', async () => {
  const scoped = new QuorateClient({ endpoints: [server.url], token: (await admin.createAclToken('write', 'app/')).token });
  await scoped.put('app/x', 'in');
  assert.equal(Buffer.from((await scoped.get('app/x'))?.value ?? []).toString(), 'in');
  assert.equal((await scoped.list('app/')).kvs.length, 1);
  await assert.rejects(scoped.put('other/x', 'out'), /may only touch keys that start with "app\/", not "other\/x"/);
  await assert.rejects(scoped.list(''), /may only touch keys that start with "app\/"/);
  await assert.rejects(scoped.list('ap'), /may only touch keys that start with "app\/"/);
  const token = (await admin.createAclToken('write', 'app/')).token;
  const txn = await call('POST', '/v1/txn', token, JSON.stringify({ success: [{ op: 'put', key: 'app/y', value: '1' }, { op: 'delete', key: 'other/', prefix: true }] }));
  assert.equal(txn.status, 403);
  assert.equal((await call('GET', '/v1/watch?prefix=other/', token)).status, 403);
  assert.equal((await call('GET', '/v1/watch?prefix=app/', token)).status, 200);
  assert.equal((await call('DELETE', '/v1/kv/app/?prefix=true', token)).status, 200);
});

test('failed attempts from one address are cut off with 429 for the rest of the minute', async () => {
  let status = 0;
  for (let i = 0; i < 25 && status !== 429; i++) status = (await call('GET', '/v1/status', `qat1_${'0'.repeat(16)}_${'x'.repeat(32)}`, undefined, '127.0.80.1')).status;
  assert.equal(status, 429);
  const refused = await call('GET', '/v1/status', singleNodeAdminToken, undefined, '127.0.80.1');
  assert.equal((await call('GET', '/v1/status', singleNodeAdminToken, undefined, '127.0.80.2')).status, 200, 'other addresses are served');
  assert.equal(refused.status, 429, 'even a valid token waits: the address is cut off');
  assert.match(refused.text, /too many failed attempts from .*; try again in \d+ s/);
});
