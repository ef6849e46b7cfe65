/**
 * Seed 003 option 2 on real processes (127.0.45.x): one `quorate arbiter` process serves two
 * two-node clusters (A: .1 and .2, B: .3 and .4), attached with `quorate cluster arbiter add`
 * (A pins the arbiter's fingerprint; a wrong pin is refused before anything is sent). Each
 * cluster then has three voters. In cluster A, which runs a one-copy job on its servers, each
 * member is SIGKILLed in turn and restarted: the node running the copy, then the other data
 * node, then the arbiter. After every kill writes go on through the survivor, and the copy is
 * replaced only after the dead node's watchdog has fenced it (never two copies at once).
 * Cluster B keeps working through the arbiter while A's turns happen; then one of its data nodes
 * is down while the other and the arbiter commit, the other dies and the first comes back
 * behind: the arbiter, the only complete log, wins, repairs it and hands leadership to it.
 */
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ClusterStatusJson } from '../../src/api/index.js';
import type { QuorateClient } from '../../src/client/index.js';
import { defaultWatchdogTimeoutMs } from '../../src/server/index.js';
import { spawnCli } from '../cli/run-cli.js';
import { CliNodes, until, type CliNode } from './cli-nodes.js';
import { intervals, maxConcurrent, readEvents, recordingJob } from './job-events.js';

const arbiterAddress = '127.0.45.9:8090';
/** Heartbeats arrive every second: the dead node's last one may precede the kill by that much. */
const heartbeatSlackMs = 1_100;

let nodes: CliNodes;
let arbiterDir: string;
let arbiter: ChildProcessWithoutNullStreams | null = null;
let fingerprint = '';
/** What the arbiter process logged (JSON lines on stderr). */
let arbiterLog = '';
const restarted: ChildProcessWithoutNullStreams[] = [];

/** Starts the arbiter and resolves with the fingerprint it prints. */
async function startArbiter(): Promise<string> {
  const child = spawnCli(['--data-dir', arbiterDir, 'arbiter', '--listen', arbiterAddress]);
  arbiter = child;
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (arbiterLog += chunk));
  return until('the arbiter listening', () => Promise.resolve(/^quorate arbiter: listening on 127\.0\.45\.9:8090 \(certificate (sha256:[0-9a-f]{64})\)/m.exec(out)?.[1] ?? null));
}

async function killArbiter(): Promise<void> {
  const child = arbiter;
  if (child === null || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Restart a killed server in the foreground (it writes its pid file, so cleanup finds it). */
function restart(node: CliNode): void {
  const child = spawnCli(['--data-dir', node.dataDir, 'server']);
  child.stdout.resume();
  child.stderr.resume();
  restarted.push(child);
}

async function healthy(node: CliNode, voters: number): Promise<ClusterStatusJson> {
  return until(`${node.host}: ${voters} voters, all ready`, async () => {
    const view = await node.status();
    return view !== null && view.voters === voters && view.quorum.ok && view.members.every((m) => m.state === 'ready') ? view : null;
  }, 30_000);
}

/** A write through `node` succeeds; resolves with how long it took to get one through. */
async function writeThrough(node: CliNode, key: string): Promise<number> {
  const started = Date.now();
  await until(`a write through ${node.host}`, async () => ((await node.run('kv', 'put', key, 'v')).code === 0 ? true : null), 15_000);
  return Date.now() - started;
}

async function runningCopies(client: QuorateClient, job: string): Promise<{ id: string; node: string }[]> {
  const view = await client.jobStatus(job);
  return view.allocations.filter((a) => a.desired === 'run' && a.status === 'running').map((a) => ({ id: a.id, node: a.node }));
}

before(async () => {
  nodes = await CliNodes.create('arbiter');
  arbiterDir = join(nodes.root, 'arbiter');
  fingerprint = await startArbiter();
});

after(async () => {
  await killArbiter();
  for (const child of restarted) child.kill('SIGKILL');
  await nodes.cleanup();
});

test('one arbiter serves two two-node clusters; each member of one is SIGKILLed in turn and writes go on, the job moving only after fencing', async () => {
  const [a1, a2, b1, b2] = ['127.0.45.1', '127.0.45.2', '127.0.45.3', '127.0.45.4'].map((host) => nodes.node(host)) as [CliNode, CliNode, CliNode, CliNode];
  for (const [first, second] of [[a1, a2], [b1, b2]] as const) {
    await first.ok('cluster', 'init', '--advertise', first.host);
    const token = (await first.ok('cluster', 'join-token', '--ttl', '1h')).trim();
    await second.ok('cluster', 'join', '--token', token, '--advertise', second.host, '--servers', `${first.host}:8080`);
  }

  // A wrong pin is refused before anything is sent; the right one attaches the arbiter.
  const wrong = await a1.run('cluster', 'arbiter', 'add', arbiterAddress, '--fingerprint', `sha256:${'0'.repeat(64)}`);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /the arbiter at 127\.0\.45\.9:8090 presents sha256:[0-9a-f]{64}, not sha256:0+: another process answers there/);
  assert.match(await a1.ok('cluster', 'arbiter', 'add', arbiterAddress, '--fingerprint', fingerprint), /^arbiter arbiter-9 at 127\.0\.45\.9:8090 added; it votes once it has caught up$/m);
  const unpinned = await b1.ok('cluster', 'arbiter', 'add', arbiterAddress);
  assert.match(unpinned, new RegExp(`presents ${fingerprint}; check it against what`));
  for (const node of [a1, b1]) {
    const view = await healthy(node, 3);
    assert.deepEqual(view.members.filter((m) => m.arbiter).map((m) => [m.id, m.voter]), [['arbiter-9', true]]);
    assert.match(await node.ok('cluster', 'status'), /^ {2}- arbiter-9 +127\.0\.45\.9 +arbiter +ready/m);
  }

  const client = await a1.client();
  const events = join(nodes.root, 'events.jsonl');
  await client.runJob({ ...recordingJob('db', 1, events), constraints: { role: 'server', labels: {} } });
  const [first] = await until('the copy running', async () => {
    const running = await runningCopies(client, 'db');
    return running.length === 1 ? running : null;
  });
  assert.ok(first !== undefined);
  const byId = new Map([['node-1', a1], ['node-2', a2]]);

  // 1 and 2: kill the data node running the copy, then (after it is back) the one the copy moved to.
  let copyNode = first.node;
  for (const round of [1, 2]) {
    const victim = byId.get(copyNode);
    const survivor = copyNode === 'node-1' ? a2 : a1;
    assert.ok(victim !== undefined);
    const killedAt = Date.now();
    await victim.kill();
    const gap = await writeThrough(survivor, `after-kill-${round}`);
    const survivorClient = await survivor.client();
    const moved = await until('the copy replaced on the survivor', async () => {
      const running = await runningCopies(survivorClient, 'db');
      return running.length === 1 && running[0]?.node !== copyNode ? running[0] : null;
    }, 30_000);
    const started = (await readEvents(events)).filter((e) => e.id === moved.id && e.event === 'start').map((e) => e.at);
    const startedAt = Math.min(...started);
    process.stdout.write(`# round ${round}: write through the survivor ${gap} ms after the kill; copy replaced ${startedAt - killedAt} ms after it\n`);
    assert.ok(startedAt - killedAt >= defaultWatchdogTimeoutMs - heartbeatSlackMs, `replaced ${startedAt - killedAt} ms after the kill: before the dead node's watchdog fenced it`);
    copyNode = moved.node;
    restart(victim);
    await healthy(survivor, 3);
    await writeThrough(b1, `b-during-round-${round}`);
  }

  // 3: kill the arbiter: two data nodes are still a majority of three.
  await killArbiter();
  const gap = await writeThrough(a1, 'after-arbiter-kill');
  await writeThrough(b2, 'b-after-arbiter-kill');
  process.stdout.write(`# arbiter killed: writes through the data nodes go on (${gap} ms)\n`);
  assert.equal(await startArbiter(), fingerprint, 'the arbiter keeps its certificate across restarts');
  const back = await healthy(a1, 3);
  assert.notEqual(back.leader, 'arbiter-9', 'the arbiter does not keep leadership');

  // Cluster B: node-4 is down while node-3 and the arbiter commit writes, then node-3 dies and
  // node-4 comes back behind (killed, not stopped: a stopped process would find the messages in
  // its socket buffers): only the arbiter's log is complete, so it must win the election, repair
  // node-4 and hand leadership to it.
  await b2.kill();
  for (let i = 0; i < 5; i++) await writeThrough(b1, `b-while-node-4-was-down-${i}`);
  await b1.kill();
  restart(b2);
  await writeThrough(b2, 'b-after-node-kill');
  const leaderB = await until('node-4 leading B', async () => {
    const view = await b2.status();
    return view?.leader === 'node-4' ? view.leader : null;
  });
  assert.equal(leaderB, 'node-4');
  assert.equal((await b2.ok('kv', 'get', 'b-while-node-4-was-down-4')).trim(), 'v', 'node-4 was repaired from the arbiter');
  const handOvers = arbiterLog.split('\n').filter((line) => line.includes('an arbiter does not keep leadership') && line.includes('"target":"node-4"'));
  assert.ok(handOvers.length > 0, 'the arbiter led (it alone had the writes) and handed leadership to node-4');

  const peak = maxConcurrent(intervals(await readEvents(events), Date.now()));
  assert.equal(peak.count, 1, `two copies ran at once at ${peak.at}`);
});
