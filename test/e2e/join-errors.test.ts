/**
 * Every way `quorate cluster join` can be refused, each with the message an operator needs, on a
 * one-node cluster at 127.0.35.1 (and a second cluster at 127.0.36.1 for the CA pin): a damaged
 * token, an expired one, a revoked one, a worker token, a token of another cluster (both
 * fingerprints printed, no secret sent), no server reachable (every address tried is listed),
 * an advertise address a member already uses, a data directory that is already initialized,
 * and admin calls without or with a wrong admin token. None of them leaves a node behind.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { QuorateClient, QuorateClientError } from '../../src/client/index.js';
import { CliNodes, type CliNode } from './cli-nodes.js';

let nodes: CliNodes;
let leader: CliNode;
let joiner: CliNode;
const servers = '127.0.35.1:8080';

before(async () => {
  nodes = await CliNodes.create('join-errors');
  leader = nodes.node('127.0.35.1');
  joiner = nodes.node('127.0.35.2');
  await leader.ok('cluster', 'init', '--advertise', leader.host);
});

after(async () => {
  await nodes.cleanup();
});

async function refused(token: string, expected: RegExp, ...extra: string[]): Promise<void> {
  const result = await joiner.run('cluster', 'join', '--token', token, '--advertise', joiner.host, '--servers', servers, '--wait', '3s', ...extra);
  assert.equal(result.code, 1, result.stdout);
  assert.match(result.stderr, expected);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'a user mistake is a message, not a stack trace');
  assert.equal(await joiner.pid(), null, 'nothing was started');
}

test('a damaged token is caught before any server is contacted', async () => {
  const token = (await leader.ok('cluster', 'join-token')).trim();
  const flipped = token.slice(0, 20) + (token[20] === 'A' ? 'B' : 'A') + token.slice(21);
  await refused(flipped, /^error: the join token is damaged \(its checksum does not match\); copy it again, whole/);
  await refused('eyJhbGciOi.not-a-token', /the join token is damaged \(it does not start with qrt1_\)/);
});

test('an expired token, a revoked token and a worker token are refused by the server', async () => {
  const short = (await leader.ok('cluster', 'join-token', '--ttl', '1s')).trim();
  await sleep(1_100);
  await refused(short, /127\.0\.35\.1:8080 refused the join: join token [0-9a-f]{16} expired at .*create a new one with `quorate cluster join-token --ttl 1h`/);

  const revoked = (await leader.ok('--json', 'cluster', 'join-token')).trim();
  const { id, token } = JSON.parse(revoked) as { id: string; token: string };
  assert.equal(await leader.ok('cluster', 'join-token', '--revoke', id), `join token ${id} revoked\n`);
  assert.match(await leader.ok('cluster', 'join-token', '--list'), new RegExp(`^${id} {2}server {2}revoked`, 'm'));
  await refused(token, new RegExp(`join token ${id} was revoked at `));

  const worker = (await leader.ok('cluster', 'join-token', '--role', 'worker')).trim();
  await refused(worker, /admits a worker, not a server: `quorate cluster join` needs a server token/);
});

test("another cluster's token: the CA pin does not match, both fingerprints are shown", async () => {
  const other = nodes.node('127.0.36.1');
  await other.ok('cluster', 'init', '--advertise', other.host);
  const foreign = (await other.ok('cluster', 'join-token')).trim();
  await refused(foreign, /^error: CA fingerprint mismatch: the token pins sha256:[0-9a-f]{64} but 127\.0\.35\.1:8080 presents sha256:[0-9a-f]{64}\. .*nothing secret was sent/m);
  await other.kill();
});

test('no server reachable: every address tried is listed', async () => {
  const token = (await leader.ok('cluster', 'join-token')).trim();
  const result = await joiner.run('cluster', 'join', '--token', token, '--advertise', joiner.host, '--servers', '127.0.35.8:8080,127.0.35.9:8080', '--wait', '2s');
  assert.equal(result.code, 1);
  assert.match(result.stderr, /no server admitted the node within 2 s; tried 127\.0\.35\.8:8080 \(connection refused\), 127\.0\.35\.9:8080 \(connection refused\)/);
});

test('an advertise address a member uses, and an initialized data directory, are refused', async () => {
  const token = (await leader.ok('cluster', 'join-token')).trim();
  const clash = await nodes.node('127.0.35.3').run('cluster', 'join', '--token', token, '--advertise', leader.host, '--servers', servers, '--wait', '3s');
  assert.equal(clash.code, 1);
  assert.match(clash.stderr, /advertise address 127\.0\.35\.1 is already used by member node-1; remove that member first/);
  const again = await leader.run('cluster', 'join', '--token', token, '--advertise', '127.0.35.4', '--servers', servers);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is already initialized: it holds node node-1 of cluster quorate/);
});

test('admin calls need the admin token: 401 without, 403 with a wrong one; join tokens and API tokens do not stand in for each other', async () => {
  const ca = await readFile(join(leader.dataDir, 'tls', 'ca.crt'), 'utf8');
  const endpoints = [`https://${leader.host}:8080`];
  const anonymous = new QuorateClient({ endpoints, ca });
  await assert.rejects(anonymous.listJoinTokens(), (error: unknown) => error instanceof QuorateClientError && error.status === 401 && /needs a token/.test(error.message));
  const wrong = new QuorateClient({ endpoints, ca, token: 'not-the-admin-token' });
  await assert.rejects(wrong.createJoinToken('server', 60), (error: unknown) => error instanceof QuorateClientError && error.status === 403 && /the token is not valid for this cluster/.test(error.message));
  const joinToken = (await leader.ok('cluster', 'join-token')).trim();
  const withJoinToken = new QuorateClient({ endpoints, ca, token: joinToken });
  await assert.rejects(withJoinToken.status(), (error: unknown) => error instanceof QuorateClientError && error.status === 403 && /that is a join token/.test(error.message));
  const apiToken = (await leader.ok('acl', 'token', 'create', '--role', 'admin')).trim();
  const [, id, secret] = /^qat1_([0-9a-f]{16})_(.+)$/.exec(apiToken) ?? [];
  await assert.rejects(
    anonymous.join({ tokenId: id ?? '', secret: secret ?? '', role: 'server', advertise: '127.0.35.77', apiPort: 8080, peerPort: 8081 }),
    (error: unknown) => error instanceof QuorateClientError && error.status === 401 && /join token [0-9a-f]{16} is unknown to this cluster/.test(error.message),
  );
  const refused = await nodes.node('127.0.35.77').run('cluster', 'join', '--token', apiToken, '--advertise', '127.0.35.77', '--servers', servers);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /the join token is damaged \(it does not start with qrt1_\)/);
  const logs = await readFile(join(leader.dataDir, 'quorate.log'), 'utf8');
  const admin = (await readFile(join(leader.dataDir, 'admin.token'), 'utf8')).trim();
  assert.ok(!logs.includes(admin), 'the admin token never appears in the log');
});
