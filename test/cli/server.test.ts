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

test('serves the API until SIGTERM, then exits 0', async () => {
  const peer = `127.0.0.1:${await freePort()}`;
  const api = `127.0.0.1:${await freePort()}`;
  const config = await writeConfig('n1.toml', [
    '[cluster]',
    'node_id = 1',
    `listen_address = "${peer}"`,
    `api_address = "${api}"`,
    `initial_cluster = [ { id = 1, address = "${peer}" } ]`,
    `db_root_dir = "${join(dir, 'db')}"`,
    'cluster_secret = "cli-server-test-secret-0123"',
  ]);
  const child = spawnCli(['server', '--config', config]);
  const result = finished(child);
  try {
    await outputIncludes(child, '\n');
    const endpoints = ['--endpoints', `http://${api}`];
    // The admin token `cluster admin-token --config` prints (derived from the cluster secret).
    const admin = { QUORATE_ADMIN_TOKEN: (await runCli(['cluster', 'admin-token', '--config', config])).stdout.trim() };
    // The node elects itself within an election timeout; writes before that wait for it.
    assert.equal((await runCli([...endpoints, 'kv', 'put', 'served', 'yes'], admin)).code, 0);
    assert.equal((await runCli([...endpoints, 'kv', 'get', 'served'], admin)).stdout, 'yes');
  } finally {
    child.kill('SIGTERM');
  }
  const { code, stdout, stderr } = await result;
  assert.equal(code, 0, stderr);
  assert.match(stdout, new RegExp(`^quorate server: node 1 listening on http://${api.replace(/\./g, '\\.')} \\(API\\)`));
});

test('a bad config file is reported by field, with status 1', async () => {
  const config = await writeConfig('bad.toml', ['[cluster]', 'node_id = 1', 'listen_address = "nowhere"']);
  const { code, stderr } = await runCli(['server', '--config', config]);
  assert.equal(code, 1);
  assert.match(stderr, /^error: .*cluster\./);
  assert.doesNotMatch(stderr, /\n\s+at /);
});
