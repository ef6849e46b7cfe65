/**
 * Fence devices on real processes (127.0.42.x: one server, two `quorate agent` workers with a 3 s
 * watchdog), configured with `quorate fence config FILE` and the shipped fence_record agent:
 * - a fence_delay not above the workers' watchdog timeout is refused, saying why;
 * - every level fails and watchdog fencing is off: a SIGKILLed worker stays lost, its job copy is
 *   not replaced however long it stays away, and `node info` and `fence history` say why;
 * - level 1 fails and level 2 succeeds: `quorate fence <node>` fences it, the copy is replaced,
 *   and each device was asked to turn that node off;
 * and the copies' own start/stop records never show two at once.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Allocation } from '../../src/state/index.js';
import type { QuorateClient } from '../../src/client/index.js';
import { CliNodes, until, type CliNode } from './cli-nodes.js';
import { intervals, maxConcurrent, readEvents, recordingJob } from './job-events.js';

const agent = fileURLToPath(new URL('../../../deploy/fence-agents/fence_record', import.meta.url));
const watchdogMs = 3000;

let nodes: CliNodes;
let server: CliNode;
let workers: CliNode[];

before(async () => {
  nodes = await CliNodes.create('fencing');
  server = nodes.node('127.0.42.1');
  workers = ['127.0.42.10', '127.0.42.11'].map((host) => nodes.node(host));
  await server.ok('cluster', 'init', '--advertise', server.host);
  const token = (await server.ok('cluster', 'join-token', '--role', 'worker', '--ttl', '1h')).trim();
  for (const worker of workers) await worker.ok('agent', '--token', token, '--advertise', worker.host, '--servers', `${server.host}:8080`, '--watchdog-timeout', `${watchdogMs}ms`);
});

after(async () => {
  await nodes.cleanup();
});

function fencingFile(logs: string, levels: readonly (readonly { name: string; exit: number }[])[], extra = 'watchdog = false'): string {
  const blocks = levels.map(
    (devices, i) =>
      `[[level]]\nlevel = ${i + 1}\n${devices.map((d) => `[[level.device]]\nname = "${d.name}"\ncommand = "${agent}"\nargs = ["--log", "${join(logs, d.name)}", "--exit", "${d.exit}"]\ntimeout = "5s"\n`).join('')}`,
  );
  return `${extra}\n${blocks.join('')}`;
}

async function copies(client: QuorateClient): Promise<readonly Allocation[]> {
  return (await client.jobStatus('db')).allocations;
}

test('fence devices decide: all failing keeps a lost worker\'s job in place; level 2 succeeding fences it and the job moves', async () => {
  const client = await server.client();
  const root = nodes.root;
  const file = join(root, 'fencing.toml');

  await writeFile(file, 'fence_delay = "2s"\n');
  const refused = await server.run('fence', 'config', file);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /fence_delay \(2000 ms\) must be greater than the watchdog timeout of every node, but node-\d+ stops its jobs only \d+ ms after losing contact/);

  await writeFile(file, fencingFile(root, [[{ name: 'ipmi', exit: 1 }], [{ name: 'pdu-a', exit: 0 }, { name: 'pdu-b', exit: 3 }]]));
  assert.match(await server.ok('fence', 'config', file), /^fencing configured\nwatchdog fencing: off/);

  const events = join(root, 'events.jsonl');
  await client.runJob(recordingJob('db', 1, events));
  const [copy] = await until('the copy running', async () => {
    const running = (await copies(client)).filter((a) => a.status === 'running');
    return running.length === 1 ? running : null;
  });
  assert.ok(copy !== undefined);
  const victim = workers[copy.node === 'node-10' ? 0 : 1] as CliNode;
  await victim.kill();
  await until('the worker lost', async () => ((await client.nodes()).find((n) => n.id === copy.node)?.status === 'lost' ? true : null));
  // Far longer than its watchdog + 1 s: with no fence device succeeding nothing may move.
  await sleep(3 * (watchdogMs + 1000));
  assert.equal((await client.nodes()).find((n) => n.id === copy.node)?.status, 'lost');
  assert.deepEqual((await copies(client)).map((a) => [a.id, a.status]), [[copy.id, 'running']], 'not replaced');
  const info = await server.ok('node', 'info', copy.node);
  assert.match(info, /^state: {8}lost$/m);
  assert.match(info, /^fencing: {6}fencing failed: every level failed: level 1: ipmi failed \(exit 1: .*\); level 2: pdu-a ok, pdu-b failed \(exit 3: .*\); watchdog fencing is off/m);
  assert.match(await server.ok('fence', 'history'), new RegExp(`${copy.node} +devices +failed +every level failed`));

  await writeFile(file, fencingFile(root, [[{ name: 'ipmi', exit: 1 }], [{ name: 'pdu-a', exit: 0 }, { name: 'pdu-c', exit: 0 }]]));
  await server.ok('fence', 'config', file);
  const fenced = await server.ok('fence', copy.node);
  assert.match(fenced, new RegExp(`^${copy.node} fenced \\(level 1: ipmi failed \\(exit 1: .*\\); level 2: pdu-a ok, pdu-c ok\\); its jobs are replaced\\n$`));
  const moved = await until('the copy replaced on the other worker', async () => {
    const running = (await copies(client)).filter((a) => a.status === 'running' && a.desired === 'run');
    return running.length === 1 && running[0]?.node !== copy.node ? running : null;
  });
  assert.equal(moved.length, 1);
  const address = victim.host;
  assert.deepEqual((await readFile(join(root, 'pdu-c'), 'utf8')).trim().split('\n'), [`off ${copy.node} ${address}`], 'level 2\'s second device was asked to turn the node off');
  assert.match(await server.ok('fence', 'history'), new RegExp(`${copy.node} +manual +fenced +level 1: ipmi failed`));
  const peak = maxConcurrent(intervals(await readEvents(events), Date.now()));
  assert.equal(peak.count, 1, 'never two copies at once');
});
