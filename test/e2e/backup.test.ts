/**
 * Backups with the real command on 127.0.38.x: `quorate snapshot save` under a steady write load
 * writes a consistent, checksummed file; `quorate cluster restore` starts a new one-node cluster
 * (its own CA, no old members or tokens) from it, holding exactly the writes up to the file's
 * revision: every write acknowledged at or before it, none after. A damaged file is refused.
 * `quorate cluster recover` turns the survivor of a lost majority into a one-voter cluster,
 * only when every lost voter is named, and only while the node is stopped.
 */
import assert from 'node:assert/strict';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { spawnCli } from '../cli/run-cli.js';
import { CliNodes, until, type CliNode } from './cli-nodes.js';

let nodes: CliNodes;

before(async () => {
  nodes = await CliNodes.create('backup');
});

after(async () => {
  await nodes.cleanup();
});


test('snapshot save under writes, restore: exactly the writes up to its revision', async () => {
  const [source, target] = ['127.0.38.1', '127.0.38.2'].map((host) => nodes.node(host)) as [CliNode, CliNode];
  await source.ok('cluster', 'init', '--advertise', source.host);
  const writer = await source.client();
  const acked: { key: string; value: string; revision: number }[] = [];
  const writing = { on: true };
  const writes = (async () => {
    for (let i = 0; writing.on; i++) {
      const key = `w/${String(i).padStart(6, '0')}`;
      const { revision } = await writer.put(key, `v${i}`);
      acked.push({ key, value: `v${i}`, revision });
    }
  })();
  while (acked.length < 100) await new Promise((resolve) => setTimeout(resolve, 20));
  const file = join(nodes.root, 'backup.qbak');
  const saved = await source.ok('snapshot', 'save', file);
  const revision = Number(/revision (\d+)/.exec(saved)?.[1]);
  while (acked.length < 200 || acked.every((a) => a.revision <= revision)) await new Promise((resolve) => setTimeout(resolve, 20));
  writing.on = false;
  await writes;

  const restored = await target.ok('cluster', 'restore', file, '--advertise', target.host);
  assert.match(restored, new RegExp(`^restoring revision ${revision} of cluster [0-9a-f]{16} `));
  assert.match(restored, /cluster restored\nnode-id: {2}node-2\nstate: {4}healthy\nnodes: {4}1\/1\n$/);
  const reader = await target.client();
  const list = await reader.list('w/');
  const present = new Map(list.kvs.map((kv) => [new TextDecoder().decode(kv.key), new TextDecoder().decode(kv.value)]));
  const before = acked.filter((a) => a.revision <= revision);
  const afterwards = acked.filter((a) => a.revision > revision);
  assert.ok(before.length >= 100 && afterwards.length > 0, `writes on both sides of the snapshot (${before.length} / ${afterwards.length})`);
  for (const a of before) assert.equal(present.get(a.key), a.value, `${a.key} (revision ${a.revision}) is in the restored cluster`);
  for (const a of afterwards) assert.equal(present.has(a.key), false, `${a.key} (revision ${a.revision}) came after the snapshot`);
  assert.equal(list.revision, revision, 'the restored store continues from the snapshot revision');
  assert.deepEqual(await reader.listJoinTokens(), [], 'no token of the old cluster is carried over');
  assert.notEqual(await readFile(join(target.dataDir, 'tls', 'ca.crt'), 'utf8'), await readFile(join(source.dataDir, 'tls', 'ca.crt'), 'utf8'), 'a new CA');

  await appendFile(file, 'x');
  const damaged = await nodes.node('127.0.38.3').run('cluster', 'restore', file, '--advertise', '127.0.38.3');
  assert.equal(damaged.code, 1);
  assert.match(damaged.stderr, /backup\.qbak is damaged: its checksum does not match/);
});

test('cluster recover: after losing 2 of 3 for good, the survivor becomes a one-voter cluster with its data', async () => {
  const [n1, n2, n3] = ['127.0.39.1', '127.0.39.2', '127.0.39.3'].map((host) => nodes.node(host)) as [CliNode, CliNode, CliNode];
  await n1.ok('cluster', 'init', '--advertise', n1.host);
  const token = (await n1.ok('cluster', 'join-token')).trim();
  await n2.ok('cluster', 'join', '--token', token, '--advertise', n2.host, '--servers', `${n1.host}:8080`);
  await n3.ok('cluster', 'join', '--token', token, '--advertise', n3.host, '--servers', `${n1.host}:8080`);
  await n1.ok('kv', 'put', 'precious', 'data');
  await n2.kill();
  await n3.kill();
  const lost = await until('node-1 seeing the lost majority', async () => {
    const result = await n1.run('cluster', 'status');
    return result.code === 0 && /degraded/.test(result.stdout) ? result.stdout : null;
  });
  assert.match(lost, /^quorum: {3}degraded \(2\/3 required\)$/m);
  assert.match(lost, /^warning: no quorum: .*Writes are refused until a majority is back$/m);
  assert.match(lost, /^ {2}- node-2 {2}127\.0\.39\.2 {2}server {2}unreachable {2}applied=\?$/m);

  const running = await n1.run('cluster', 'recover', '--confirm-lost', 'node-2,node-3');
  assert.match(running.stderr, /node node-1 is running \(pid \d+\); stop it first/);
  await n1.ok('stop');
  const partial = await n1.run('cluster', 'recover', '--confirm-lost', 'node-2');
  assert.equal(partial.code, 1);
  assert.match(partial.stderr, /the other voters of the last configuration are node-2, node-3; .*confirm exactly them with --confirm-lost node-2,node-3/);
  const plan = await n1.ok('cluster', 'recover', '--confirm-lost', 'node-3,node-2');
  assert.match(plan, /^recovering node-1 from .*\n {2}keep the state as of committed index \d+ .*\n.*\n {2}remove members: node-2, node-3\n {2}new configuration: node-1 as the only voter\n/);

  const server = spawnCli(['--data-dir', n1.dataDir, 'server']);
  try {
    const view = await until('node-1 leading alone', async () => {
      const status = await n1.status();
      return status?.leader === 'node-1' && status.voters === 1 ? status : null;
    });
    assert.deepEqual(view.warnings, []);
    assert.equal(await n1.ok('kv', 'get', 'precious'), 'data');
    await n1.ok('kv', 'put', 'after', 'recovery');
  } finally {
    server.kill('SIGTERM');
  }
});
