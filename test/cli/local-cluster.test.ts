/**
 * `npm start`'s command, `quorate local-cluster`, as a newcomer runs it: it forms a 3-node
 * cluster on 127.0.0.1-3 through init and join tokens, prints seed 000's status with three
 * ready servers, serves the KV through each node's data directory, stops all three on Ctrl-C
 * (SIGINT) with exit status 0, and run again starts the same cluster with its data.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { finished, outputIncludes, runCli, spawnCli, type CliResult } from './run-cli.js';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quorate-local-cluster-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs local-cluster until it is ready, does `whileUp`, then Ctrl-C; its whole output. */
async function session(whileUp: () => Promise<void>): Promise<CliResult> {
  const child = spawnCli(['local-cluster', '--dir', dir]);
  const result = finished(child);
  try {
    await outputIncludes(child, 'Ctrl-C stops the cluster');
    await whileUp();
  } finally {
    child.kill('SIGINT');
  }
  return result;
}

test('forms a cluster through init and joins, stops on Ctrl-C, and starts again on its data', async () => {
  const node = (host: string): string[] => ['--data-dir', join(dir, host)];
  const first = await session(async () => {
    assert.equal((await runCli([...node('127.0.0.1'), 'kv', 'put', 'greeting', 'hello'])).code, 0);
    assert.equal((await runCli([...node('127.0.0.2'), 'kv', 'get', 'greeting'])).stdout, 'hello');
  });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^initializing a new cluster in /);
  assert.match(first.stdout, /node-2 admitted\n[\s\S]*node-3 admitted\n/);
  assert.match(first.stdout, /cluster: {2}3 nodes\nquorum: {3}ok \(2\/3 required\)\n/);
  assert.equal((first.stdout.match(/server {2}ready/g) ?? []).length, 3);
  assert.equal((first.stdout.match(/exited \(0\)/g) ?? []).length, 3, 'Ctrl-C stops all three gracefully');

  const second = await session(async () => {
    assert.equal((await runCli([...node('127.0.0.3'), 'kv', 'get', 'greeting'])).stdout, 'hello', 'the data survived');
  });
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stdout, /initializing|admitted/, 'the same cluster, not a new one');
});
