/**
 * Seed 003 option 1 on real processes (127.0.46.x): `two_node = true` in the fencing setup,
 * refused without fence devices. With a device, the learner of a two-server cluster is promoted
 * (two voters) and status warns loudly. The leader is SIGKILLed: the survivor fences it (the
 * test's device kills every process of that node, its jobs' too, as a power switch would),
 * becomes the only voter and takes writes and the job. The fenced node started again on its
 * old data never sees a leader of the pair (wait_for_all), so it takes nothing over and the
 * survivor keeps leading.
 */
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnCli } from '../cli/run-cli.js';
import { CliNodes, until, type CliNode } from './cli-nodes.js';
import { intervals, maxConcurrent, readEvents, recordingJob } from './job-events.js';

let nodes: CliNodes;
const children: ChildProcessWithoutNullStreams[] = [];

/** A fence device for the test: "turns off" a node by killing its server, its supervisors and their tasks. */
function powerSwitch(root: string): string {
  return [
    '#!/bin/sh',
    `root='${root}'`,
    'dir="$root/$QUORATE_FENCE_ADDRESS"',
    'for pid in $(pgrep -f "$dir( |/|$)"); do',
    '  for child in $(pgrep -P "$pid"); do kill -9 -- "-$child" 2>/dev/null; kill -9 "$child" 2>/dev/null; done',
    '  kill -9 "$pid" 2>/dev/null',
    'done',
    // When everything of the node is gone (ms since the epoch): its copies ran until then at most.
    'echo "$* $QUORATE_FENCE_ADDRESS $(date +%s%3N)" >> "$root/fence.log"',
    'exit 0',
    '',
  ].join('\n');
}

before(async () => {
  nodes = await CliNodes.create('two-node');
});

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await nodes.cleanup();
});

test('two_node: refused without devices; with one the pair forms, the survivor fences its dead peer and goes on alone; the fenced node takes nothing over', async () => {
  const [n1, n2] = ['127.0.46.1', '127.0.46.2'].map((host) => nodes.node(host)) as [CliNode, CliNode];
  await n1.ok('cluster', 'init', '--advertise', n1.host);
  const token = (await n1.ok('cluster', 'join-token', '--ttl', '1h')).trim();
  await n2.ok('cluster', 'join', '--token', token, '--advertise', n2.host, '--servers', `${n1.host}:8080`);

  const noDevices = join(nodes.root, 'no-devices.toml');
  await writeFile(noDevices, 'two_node = true\n');
  const refused = await n1.run('fence', 'config', noDevices);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /two_node = true needs fence devices \(seed 003 option 1\)/);

  const agent = join(nodes.root, 'fence_power');
  await writeFile(agent, powerSwitch(nodes.root), { mode: 0o755 });
  const setup = join(nodes.root, 'fencing.toml');
  await writeFile(setup, `two_node = true\n\n[[level]]\nlevel = 1\n[[level.device]]\nname = "power"\ncommand = "${agent}"\ntimeout = "5s"\n`);
  assert.match(await n1.ok('fence', 'config', setup), /^two_node: {9}on/m);
  const pair = await until('two voters', async () => {
    const view = await n1.status();
    return view?.voters === 2 && view.quorum.ok ? view : null;
  });
  assert.deepEqual(pair.members.map((m) => [m.id, m.voter]), [['node-1', true], ['node-2', true]]);
  assert.match(await n1.ok('cluster', 'status'), /^warning: two_node: TWO VOTERS\. If one fails/m);

  const client = await n1.client();
  const events = join(nodes.root, 'events.jsonl');
  await client.runJob({ ...recordingJob('db', 1, events), constraints: { role: 'server', labels: {} } });
  await until('the copy running', async () => ((await client.jobStatus('db')).allocations.some((a) => a.status === 'running') ? true : null));
  await n1.ok('kv', 'put', 'before', '1');

  const leader = pair.leader === 'node-2' ? n2 : n1;
  const survivor = leader === n1 ? n2 : n1;
  const killedAt = Date.now();
  await leader.kill();
  await until('a write through the survivor', async () => ((await survivor.run('kv', 'put', 'after', '2')).code === 0 ? true : null), 30_000);
  process.stdout.write(`# the survivor took writes ${Date.now() - killedAt} ms after the leader was killed\n`);
  const alone = await survivor.status();
  assert.equal(alone?.voters, 1);
  assert.equal(alone.members.length, 1);
  assert.equal((await survivor.ok('kv', 'get', 'before')).trim(), '1');
  const deadId = leader === n1 ? 'node-1' : 'node-2';
  assert.match(await survivor.ok('fence', 'history'), new RegExp(`${deadId} +devices +fenced +two_node: node-\\d fenced its peer and went on alone \\(level 1: power ok\\)`));
  const fenced = new RegExp(`^off ${deadId} ${leader.host} (\\d+)$`, 'm').exec(await readFile(join(nodes.root, 'fence.log'), 'utf8'));
  assert.ok(fenced !== null, 'the device was asked to turn the dead node off');
  const fencedAt = Number(fenced[1]);
  const survivorClient = await survivor.client();
  const moved = await until('the copy running on the survivor', async () => (await survivorClient.jobStatus('db')).allocations.find((a) => a.status === 'running' && a.node !== deadId), 30_000);
  const started = (await readEvents(events)).filter((e) => e.id === moved.id && e.event === 'start');
  assert.ok(started.every((e) => e.at > fencedAt), 'the copy was replaced only after the device had fenced the node');

  // The fenced node comes back on its old data: it never sees a leader of the pair, so it stays out.
  const stale = spawnCli(['--data-dir', leader.dataDir, 'server']);
  children.push(stale);
  stale.stdout.resume();
  stale.stderr.resume();
  await sleep(4_000);
  const later = await survivor.status();
  assert.equal(later?.leader, survivor === n1 ? 'node-1' : 'node-2', 'the survivor still leads');
  assert.equal(later.voters, 1);
  await survivor.ok('kv', 'put', 'still', '3');
  const staleView = await leader.run('cluster', 'status');
  assert.match(`${staleView.stdout}${staleView.stderr}`, /has not seen a leader of the pair since it started \(wait_for_all\)/);

  // The dead node's copy recorded no stop (a power switch gives no warning): it ended by fencedAt.
  const peak = maxConcurrent(intervals((await readEvents(events)).filter((e) => e.at <= fencedAt), fencedAt));
  assert.equal(peak.count, 1, `two copies ran at once at ${peak.at}`);
});
