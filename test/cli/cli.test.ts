/**
 * The `quorate` client commands as a user runs them: the built CLI as a child process against
 * a real single-node server (test/api/single-node.ts), checking stdout, stderr and the exit
 * status of kv put/get/del/txn/watch and lease grant/keepalive/revoke, text and --json, the
 * endpoint options, and that mistakes print "error: ..." with status 1 and no stack trace.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort, SingleNode, singleNodeAdminToken } from '../api/single-node.js';

/** The CLI sends the admin token given in the environment to --endpoints. */
const admin = { QUORATE_ADMIN_TOKEN: singleNodeAdminToken };
import { finished, runCli, spawnCli, type CliResult } from './run-cli.js';

let server: SingleNode;

before(async () => {
  server = await SingleNode.start({ watch: { progressIntervalMs: 200 } });
});

after(async () => {
  await server.stop();
});

function quorate(...args: string[]): Promise<CliResult> {
  return runCli(['--endpoints', server.url, ...args], admin);
}

function assertUserError(result: CliResult, pattern: RegExp): void {
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /^error: /);
  assert.match(result.stderr, pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

test('kv put, get (one key, prefix, --json) and del', async () => {
  const put = await quorate('kv', 'put', 'cli/a', 'alpha');
  assert.equal(put.code, 0, put.stderr);
  assert.match(put.stdout, /^OK \(revision \d+\)\n$/);
  await quorate('kv', 'put', 'cli/b', 'beta');
  assert.deepEqual(await quorate('kv', 'get', 'cli/a'), { code: 0, stdout: 'alpha', stderr: '' });
  assert.equal((await quorate('kv', 'get', 'cli/', '--prefix')).stdout, 'cli/a\nalpha\ncli/b\nbeta\n');
  assert.equal((await quorate('kv', 'get', 'cli/', '--prefix', '--keys-only', '--consistency', 'serializable')).stdout, 'cli/a\ncli/b\n');
  const json = JSON.parse((await quorate('--json', 'kv', 'get', 'cli/a')).stdout) as Record<string, unknown>;
  assert.equal(json.value, 'alpha');
  assert.equal(json.version, 1);
  const list = JSON.parse((await quorate('kv', 'get', 'cli/', '--prefix', '--json', '--limit', '1')).stdout) as Record<string, unknown>;
  assert.deepEqual([(list.kvs as unknown[]).length, list.count, list.more], [1, 2, true]);
  const del = await quorate('kv', 'del', 'cli/', '--prefix');
  assert.match(del.stdout, /^deleted 2 \(revision \d+\)\n$/);
  assertUserError(await quorate('kv', 'get', 'cli/a'), /key "cli\/a" not found/);
});

test('kv txn: compare-and-swap by value or mod revision, failing with what the key holds', async () => {
  const created = await quorate('kv', 'txn', '--key', 'cli/cas', '--expect-mod-revision', '0', '--put', 'one');
  assert.equal(created.code, 0, created.stderr);
  const revision = Number(/revision (\d+)/.exec(created.stdout)?.[1]);
  assertUserError(await quorate('kv', 'txn', '--key', 'cli/cas', '--expect-mod-revision', '0', '--put', 'two'), new RegExp(`compare failed: the key holds "one" at modRevision ${revision}`));
  assert.equal((await quorate('kv', 'txn', '--key', 'cli/cas', '--expect-value', 'one', '--put', 'two')).code, 0);
  assertUserError(await quorate('kv', 'txn', '--key', 'cli/cas', '--expect-value', 'one', '--delete'), /holds "two"/);
  const deleted = await quorate('--json', 'kv', 'txn', '--key', 'cli/cas', '--expect-value', 'two', '--delete');
  assert.equal((JSON.parse(deleted.stdout) as { succeeded: boolean }).succeeded, true);
  assertUserError(await quorate('kv', 'txn', '--key', 'cli/cas', '--put', 'x'), /exactly one of --expect-value and --expect-mod-revision/);
  assertUserError(await quorate('kv', 'txn', '--key', 'cli/cas', '--expect-value', 'x', '--put', 'x', '--delete'), /exactly one of --put and --delete/);
});

test('lease grant, attach, keepalive --once, revoke deleting the key', async () => {
  const granted = await quorate('--json', 'lease', 'grant', '60');
  assert.equal(granted.code, 0, granted.stderr);
  const { id } = JSON.parse(granted.stdout) as { id: number };
  assert.equal((await quorate('kv', 'put', 'cli/leased', 'v', '--lease', String(id))).code, 0);
  assert.equal((await quorate('lease', 'keepalive', String(id), '--once')).stdout, `lease ${id} kept alive with TTL 60s\n`);
  assert.equal((await quorate('lease', 'revoke', String(id))).stdout, `lease ${id} revoked (1 keys deleted)\n`);
  assertUserError(await quorate('kv', 'get', 'cli/leased'), /not found/);
  assertUserError(await quorate('lease', 'revoke', String(id)), /lease \d+ not found/);
  assert.match((await quorate('lease', 'grant', '30')).stdout, /^lease \d+ granted with TTL 30s\n$/);
});

test('kv watch prints events until interrupted, then exits 0', async () => {
  const first = await quorate('--json', 'kv', 'put', 'cli/w/a', '1');
  const from = (JSON.parse(first.stdout) as { revision: number }).revision;
  const child = spawnCli(['--endpoints', server.url, 'kv', 'watch', 'cli/w/', '--prefix', '--from', String(from)], admin);
  const result = finished(child);
  let seen = '';
  child.stdout.on('data', (chunk: string) => {
    seen += chunk;
    if (seen.includes('DELETE')) child.kill('SIGINT');
  });
  await quorate('kv', 'put', 'cli/w/b', '2');
  await quorate('kv', 'del', 'cli/w/a');
  const { code, stdout, stderr } = await result;
  assert.equal(code, 0, stderr);
  assert.deepEqual(
    stdout.split('\n').filter((line) => line !== ''),
    [`PUT cli/w/a = 1 (revision ${from})`, `PUT cli/w/b = 2 (revision ${from + 1})`, `DELETE cli/w/a (revision ${from + 2})`],
  );
});

test('endpoints: the first reachable one is used, from --endpoints or QUORATE_ENDPOINTS', async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  assert.equal((await runCli(['--endpoints', `${dead},${server.url}`, 'kv', 'put', 'cli/e', 'v'], admin)).code, 0);
  assert.equal((await runCli(['kv', 'get', 'cli/e'], { ...admin, QUORATE_ENDPOINTS: server.url })).stdout, 'v');
  assert.equal((await runCli(['kv', 'get', 'cli/e', '--endpoints', server.url], admin)).stdout, 'v', 'global options may follow the subcommand');
  const unreachable = await runCli(['--endpoints', `${dead},http://127.0.0.1:1`, 'kv', 'get', 'x']);
  assertUserError(unreachable, new RegExp(`no endpoint could be reached; tried ${dead.replace(/\./g, '\\.')} \\(connection refused\\), http://127\\.0\\.0\\.1:1 \\(connection refused\\)`));
  assertUserError(await runCli(['--endpoints', 'localhost:8080', 'kv', 'get', 'x']), /must start with http:\/\//);
});

test('usage mistakes are reported by name with status 1', async () => {
  const missing = await quorate('kv', 'put', 'only-a-key');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /error: missing required argument 'value'/);
  const badNumber = await quorate('kv', 'put', 'k', 'v', '--lease', 'abc');
  assert.equal(badNumber.code, 1);
  assert.match(badNumber.stderr, /error: option '--lease <id>' argument 'abc' is invalid/);
  const badChoice = await quorate('kv', 'get', 'k', '--consistency', 'strong');
  assert.equal(badChoice.code, 1);
  assert.match(badChoice.stderr, /Allowed choices are linearizable, serializable/);
  assert.equal((await quorate('nonsense')).code, 1);
  assert.equal((await quorate('--help')).code, 0);
});

test('acl token create, list and revoke; --api-token acts with that role; a join command keeps its own --token', async () => {
  const token = (await quorate('acl', 'token', 'create', '--role', 'read', '--prefix', 'cli/')).stdout.trim();
  assert.match(token, /^qat1_[0-9a-f]{16}_[A-Za-z0-9_-]{32}$/);
  const id = token.slice(5, 21);
  assert.match((await quorate('acl', 'token', 'list')).stdout, new RegExp(`^${id} {2}read {6}valid {4}prefix "cli/"`, 'm'));
  await quorate('kv', 'put', 'cli/readable', 'r');
  const asReader = ['--endpoints', server.url, '--api-token', token];
  assert.equal((await runCli([...asReader, 'kv', 'get', 'cli/readable'])).stdout, 'r');
  assertUserError(await runCli([...asReader, 'kv', 'put', 'cli/readable', 'w']), /this token has the role read, which may not write keys or leases/);
  assertUserError(await runCli([...asReader, 'kv', 'get', 'other']), /may only touch keys that start with "cli\/"/);
  assert.match((await quorate('acl', 'token', 'revoke', id)).stdout, new RegExp(`^API token ${id} revoked`));
  assertUserError(await runCli([...asReader, 'kv', 'get', 'cli/readable']), new RegExp(`API token ${id} was revoked at`));
  assertUserError(await runCli(['cluster', 'join', '--token', 'qrt1_x', '--advertise', '127.0.0.1', '--servers', '127.0.0.1:1']), /the join token is damaged/);
});
