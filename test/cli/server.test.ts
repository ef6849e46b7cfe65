/**
 * `quorate server --config FILE` as a real process: it starts a single-voter node from a TOML
 * file in a temp directory (free loopback ports), prints one "listening" line, serves the
 * client commands, and on SIGTERM closes the API and stops the node, exiting 0. A bad config
 * file is an "error: ..." line naming the field, with status 1.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '../api/single-node.js';
import { finished, outputIncludes, runCli, spawnCli } from './run-cli.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quorate-cli-server-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(name: string, lines: readonly string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

/** A one-node static bootstrap with its peer listener on `peer`, its API on `api`, its data under `db`. */
function singleNode(peer: string, api: string, db: string): string[] {
  return [
    '[cluster]',
    'node_id = 1',
    `listen_address = "${peer}"`,
    `api_address = "${api}"`,
    `initial_cluster = [ { id = 1, address = "${peer}" } ]`,
    `db_root_dir = "${join(dir, db)}"`,
    'cluster_secret = "cli-server-test-secret-0123"',
  ];
}

test('serves the API until SIGTERM, then exits 0', async () => {
  const peer = `127.0.0.1:${await freePort()}`;
  const api = `127.0.0.1:${await freePort()}`;
  const config = await writeConfig('n1.toml', singleNode(peer, api, 'db'));
  const child = spawnCli(['server', '--config', config]);
  const result = finished(child);
  try {
    await outputIncludes(child, '\n');
    // HTTPS by default, with a certificate from the CA the secret derives (`cluster ca show` prints it).
    const ca = await runCli(['cluster', 'ca', 'show', '--config', config]);
    assert.equal(ca.code, 0, ca.stderr);
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, ca.stdout);
    const pin = /fingerprint: (sha256:[0-9a-f]{64})/.exec(ca.stderr)?.[1];
    assert.ok(pin !== undefined, ca.stderr);
    const endpoints = ['--endpoints', `https://${api}`, '--ca-file', caFile];
    // The admin token `cluster admin-token --config` prints (derived from the cluster secret).
    const admin = { QUORATE_ADMIN_TOKEN: (await runCli(['cluster', 'admin-token', '--config', config])).stdout.trim() };
    // The node elects itself within an election timeout; writes before that wait for it.
    assert.equal((await runCli([...endpoints, 'kv', 'put', 'served', 'yes'], admin)).code, 0);
    assert.equal((await runCli([...endpoints, 'kv', 'get', 'served'], admin)).stdout, 'yes');
    // A pin instead of the file; a wrong pin is refused before the token is sent.
    assert.equal((await runCli(['--endpoints', `https://${api}`, '--ca-pin', pin, 'kv', 'get', 'served'], admin)).stdout, 'yes');
    const wrongPin = await runCli(['--endpoints', `https://${api}`, '--ca-pin', `sha256:${'0'.repeat(64)}`, 'kv', 'get', 'served'], admin);
    assert.equal(wrongPin.code, 1);
    assert.match(wrongPin.stderr, /CA fingerprint mismatch: --ca-pin is sha256:0+ but https:\/\/127\.0\.0\.1:\d+ presents sha256:[0-9a-f]{64}/);
    // Without any CA the system's roots do not know the cluster's: a clear TLS error.
    const untrusted = await runCli(['--endpoints', `https://${api}`, 'kv', 'get', 'served'], admin);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /not signed by the trusted CA/);
  } finally {
    child.kill('SIGTERM');
  }
  const { code, stdout, stderr } = await result;
  assert.equal(code, 0, stderr);
  assert.match(stdout, new RegExp(`^quorate server: node 1 listening on https://${api.replace(/\./g, '\\.')} \\(API\\)`));
});

test('--insecure-api serves plain HTTP on loopback only, and status warns about it', async () => {
  const peer = `127.0.0.1:${await freePort()}`;
  const api = `127.0.0.1:${await freePort()}`;
  const lines = (apiAddress: string): string[] => singleNode(peer, apiAddress, 'db-insecure');
  const refused = await runCli(['server', '--config', await writeConfig('wide.toml', lines(`0.0.0.0:${await freePort()}`)), '--insecure-api']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error: --insecure-api: plain HTTP is allowed only on a loopback API address .* but the API listens on 0\.0\.0\.0/);
  const config = await writeConfig('insecure.toml', lines(api));
  const child = spawnCli(['server', '--config', config, '--insecure-api']);
  const result = finished(child);
  try {
    await outputIncludes(child, '\n');
    const admin = { QUORATE_ADMIN_TOKEN: (await runCli(['cluster', 'admin-token', '--config', config])).stdout.trim() };
    const status = await runCli(['--endpoints', `http://${api}`, 'cluster', 'status'], admin);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /1 serves its API over plain HTTP \(--insecure-api\)/);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal((await result).code, 0);
});

test('a bad config file is reported by field, with status 1', async () => {
  const config = await writeConfig('bad.toml', ['[cluster]', 'node_id = 1', 'listen_address = "nowhere"']);
  const { code, stderr } = await runCli(['server', '--config', config]);
  assert.equal(code, 1);
  assert.match(stderr, /^error: .*cluster\./);
  assert.doesNotMatch(stderr, /\n\s+at /);
});
