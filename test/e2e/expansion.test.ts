/**
 * Seed 002's expansion with `quorate` on 127.0.34.1-3: a one-node cluster that already holds
 * data grows to three nodes while a writer keeps writing through node 1 the whole time. No
 * write fails, every acknowledged write is on the new nodes afterwards, and node 1 is never
 * restarted (its pid does not change). The cluster goes from 1 voter to 3 without a 2-voter
 * stop: node 2 stays a learner until node 3 has caught up too.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CliNodes, until, type CliNode } from './cli-nodes.js';

let nodes: CliNodes;

before(async () => {
  nodes = await CliNodes.create('expansion');
});

after(async () => {
  await nodes.cleanup();
});


test('seed 002: 1 node with data grows to 3 under continuous writes, none failing or lost', async () => {
  const [n1, n2, n3] = ['127.0.34.1', '127.0.34.2', '127.0.34.3'].map((host) => nodes.node(host)) as [CliNode, CliNode, CliNode];
  await n1.ok('cluster', 'init', '--advertise', n1.host);
  const pid = await n1.pid();
  const writer = await n1.client();
  for (let i = 0; i < 200; i++) await writer.put(`seed/${i}`, `v${i}`);

  const acknowledged: string[] = [];
  const failures: string[] = [];
  const writing = { on: true };
  const writes = (async () => {
    for (let i = 0; writing.on; i++) {
      try {
        await writer.put(`during/${i}`, `v${i}`);
        acknowledged.push(`during/${i}`);
      } catch (error) {
        failures.push(`during/${i}: ${(error as Error).message}`);
      }
    }
  })();

  try {
    const token = (await n1.ok('cluster', 'join-token')).trim();
    const join2 = await n2.ok('cluster', 'join', '--token', token, '--advertise', n2.host, '--servers', `${n1.host}:8080`);
    assert.match(join2, /caught up; the leader promotes this learner when another server joins/);
    const between = await n1.status();
    assert.equal(between?.voters, 1, 'node 2 waits as a learner: the cluster never stops at 2 voters');
    await n3.ok('cluster', 'join', '--token', token, '--advertise', n3.host, '--servers', `${n1.host}:8080,${n2.host}:8080`);
    await until('three voters', async () => ((await n1.status())?.voters === 3 ? true : null));
  } finally {
    // Also when a join fails: a writer left running would keep the test process busy forever.
    writing.on = false;
    await writes;
  }

  assert.deepEqual(failures, [], 'no write failed during the expansion');
  assert.ok(acknowledged.length > 20, `writes kept flowing during the joins (${acknowledged.length})`);
  assert.equal(await n1.pid(), pid, 'node 1 was never restarted');
  const decoder = new TextDecoder();
  for (const node of [n2, n3]) {
    const reader = await node.client();
    const during = new Set((await reader.list('during/')).kvs.map((kv) => decoder.decode(kv.key)));
    const missing = acknowledged.filter((key) => !during.has(key));
    assert.deepEqual(missing, [], `every acknowledged write is on ${node.host}`);
    assert.equal((await reader.list('seed/')).count, 200, `the data from before the joins is on ${node.host}`);
  }
  process.stdout.write(`# ${acknowledged.length} writes acknowledged during the expansion, none failed\n`);
});
