/**
 * Seed 000's first steps with the real command on 127.0.30.1: `cluster init` creates the node,
 * starts it in the background and prints the seed's four lines; `cluster status` with no flags
 * but the data directory prints the seed's layout; the KV commands find the local node (HTTPS
 * with the cluster CA, admin token) the same way; `quorate stop` stops it and `quorate server`
 * starts it again on its data. Init on an initialized directory, status without a node, and a
 * server whose Raft state is gone fail with messages that say what to do.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { finished, runCli, spawnCli } from '../cli/run-cli.js';

const host = '127.0.30.1';
let root: string;
let dataDir: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'quorate-lifecycle-'));
  dataDir = join(root, 'node-1');
});

after(async () => {
  await killRecorded(dataDir);
  if (process.env.QUORATE_E2E_KEEP === undefined) await rm(root, { recursive: true, force: true });
});

/** The background server outlives the CLI that started it; never leave one behind. */
async function killRecorded(dir: string): Promise<void> {
  const pid = Number((await readFile(join(dir, 'quorate.pid'), 'utf8').catch(() => '')).trim());
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function cli(...args: string[]): ReturnType<typeof runCli> {
  return runCli(['--data-dir', dataDir, ...args]);
}

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('cluster init prints the seed output, status and kv find the local node, stop and server restart it', async () => {
  const init = await cli('cluster', 'init', '--advertise', host);
  assert.equal(init.code, 0, init.stderr);
  assert.equal(init.stdout, 'cluster initialized\nnode-id:  node-1\nstate:    healthy\nnodes:    1/1\n');
  assert.equal((await stat(dataDir)).mode & 0o777, 0o700, 'the data directory is private');
  for (const secret of ['admin.token', 'tls/ca.key', 'tls/node.key', 'node.json']) {
    assert.equal((await stat(join(dataDir, secret))).mode & 0o777, 0o600, `${secret} is readable by its owner only`);
  }

  const again = await cli('cluster', 'init', '--advertise', host);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is already initialized: it holds node node-1 of cluster quorate .*quorate server --data-dir/);

  const status = await cli('cluster', 'status');
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /^cluster: {2}1 node\nquorum: {3}ok \(1\/1 required\)\nleader: {3}node-1 \(127\.0\.30\.1\)\npeers:\n {2}- node-1 {2}127\.0\.30\.1 {2}server {2}ready {2}applied=\d+\nlast_update: 0\.0s ago\n/);

  assert.equal((await cli('kv', 'put', 'greeting', 'hello')).code, 0);
  assert.equal((await cli('kv', 'get', 'greeting')).stdout, 'hello');

  const stopped = await cli('stop');
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.equal(stopped.stdout, 'node node-1 stopped\n');
  const down = await cli('cluster', 'status');
  assert.equal(down.code, 1);
  assert.match(down.stderr, /no endpoint could be reached/);

  const server = spawnCli(['server', '--data-dir', dataDir]);
  const exited = finished(server);
  try {
    const json = await until('the restarted node leads again', async () => {
      const answer = await cli('--json', 'cluster', 'status');
      if (answer.code !== 0) return null;
      const view = JSON.parse(answer.stdout) as { leader: string | null };
      return view.leader === 'node-1' ? view : null;
    });
    assert.equal(json.leader, 'node-1');
    assert.equal((await cli('kv', 'get', 'greeting')).stdout, 'hello', 'the data survived the restart');
  } finally {
    server.kill('SIGTERM');
  }
  assert.equal((await exited).code, 0);
});

test('status without a node in the data directory says how to make one', async () => {
  const result = await runCli(['--data-dir', join(root, 'empty'), 'cluster', 'status']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /holds no Quorate node \(no node\.json\)\. Run `quorate cluster init --advertise IP`/);
});

test('a node whose Raft state is gone refuses to start instead of founding a new cluster', async () => {
  await rm(join(dataDir, 'raft'), { recursive: true, force: true });
  const result = await runCli(['server', '--data-dir', dataDir]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /holds no Raft state and this node is not a founding member that could create it/);
});
