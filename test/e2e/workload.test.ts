/**
 * Workers and jobs on real processes (127.0.41.x): three servers made with `quorate cluster
 * init`/`join` and two `quorate agent` workers with a 3 s watchdog. A job with count 3 (each
 * copy an HTTP server on a loopback port) runs three copies, answered over HTTP, shown by `node
 * list` and `job logs`. Then:
 * - a changed job rolls out to version 2, one copy at a time;
 * - the server the agents talk to is killed: they move on to the others and nothing stops;
 * - an agent restarted gracefully re-attaches to its copies: no copy starts again;
 * - an agent killed with SIGKILL: its copies stop before its watchdog timeout (their supervisors
 *   fence them) and are replaced on the other worker only after it, never earlier;
 * - a node drained: its copies move one at a time and at least count - 1 answer throughout;
 * and over the whole run the copies' own start/stop records never show more than 3 running at
 * once, nor one copy running twice.
 */
import assert from 'node:assert/strict';
import { get as httpGet } from 'node:http';
import { request } from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Allocation } from '../../src/state/index.js';
import { CliNodes, until, type CliNode } from './cli-nodes.js';
import { intervals, maxConcurrent, readEvents, recordingJob, sameCopyOverlaps } from './job-events.js';

const watchdogMs = 3000;
/** How much earlier than the kill the victim's last heartbeat may have arrived, beyond the 1 s the margin covers. */
const heartbeatSlackMs = 300;
const count = 3;

let nodes: CliNodes;
let servers: CliNode[];
let workers: CliNode[];
let eventsFile: string;

interface Api {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
}

async function apiOf(node: CliNode): Promise<Api> {
  const ca = await readFile(join(node.dataDir, 'tls', 'ca.crt'), 'utf8');
  const token = (await readFile(join(node.dataDir, 'admin.token'), 'utf8')).trim();
  return {
    call: (method, path, body) =>
      new Promise((resolve, reject) => {
        const text = body === undefined ? '' : JSON.stringify(body);
        const req = request(`https://${node.host}:8080${path}`, { method, ca, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, timeout: 10_000 }, (response) => {
          let data = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (data += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(data) as Record<string, unknown> }));
        });
        req.on('error', reject);
        req.end(text);
      }),
  };
}

async function allocations(api: Api, job: string): Promise<Allocation[]> {
  const answer = await api.call('GET', `/v1/jobs/${job}`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body.allocations as Allocation[];
}

const live = (all: readonly Allocation[]): Allocation[] => all.filter((a) => a.desired === 'run' && a.status === 'running');

/** What a copy answers on its port: its allocation id, or null when nothing serves there. */
function ask(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const req = httpGet({ host, port, path: '/', timeout: 1000 }, (response) => {
      let data = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (data += chunk));
      response.on('end', () => resolve(data));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

function hostOf(node: string): string {
  return `127.0.41.${node.replace('node-', '')}`;
}

/** How many copies answer with their own id right now. */
async function serving(all: readonly Allocation[]): Promise<number> {
  const answers = await Promise.all(all.map(async (a) => (await ask(hostOf(a.node), a.ports.http ?? 0)) === a.id));
  return answers.filter(Boolean).length;
}

before(async () => {
  nodes = await CliNodes.create('workload');
  eventsFile = join(nodes.root, 'events.jsonl');
  servers = ['127.0.41.1', '127.0.41.2', '127.0.41.3'].map((host) => nodes.node(host));
  workers = ['127.0.41.10', '127.0.41.11'].map((host) => nodes.node(host));
  const [n1, n2, n3] = servers as [CliNode, CliNode, CliNode];
  await n1.ok('cluster', 'init', '--advertise', n1.host);
  const token = (await n1.ok('cluster', 'join-token', '--ttl', '1h')).trim();
  await n2.ok('cluster', 'join', '--token', token, '--advertise', n2.host, '--servers', `${n1.host}:8080`);
  await n3.ok('cluster', 'join', '--token', token, '--advertise', n3.host, '--servers', `${n1.host}:8080,${n2.host}:8080`);
  const workerToken = (await n1.ok('cluster', 'join-token', '--role', 'worker', '--ttl', '1h')).trim();
  const all = servers.map((s) => `${s.host}:8080`).join(',');
  for (const worker of workers) {
    const out = await worker.ok('agent', '--token', workerToken, '--advertise', worker.host, '--servers', all, '--watchdog-timeout', `${watchdogMs}ms`);
    assert.match(out, /^connecting to 127\.0\.41\.1:8080\.\.\.\nadmitted as node-1\d \(a worker: it runs jobs and never votes\); starting the agent\nagent started\nnode-id: {2}node-1\d\nstate: {4}ready\n/);
  }
});

after(async () => {
  await nodes.cleanup();
});

test('a server token is refused for an agent, and agents never vote', async () => {
  const [n1] = servers as [CliNode];
  const serverToken = (await n1.ok('cluster', 'join-token', '--ttl', '1h')).trim();
  const refused = await nodes.node('127.0.41.12').run('agent', '--token', serverToken, '--advertise', '127.0.41.12', '--servers', `${n1.host}:8080`, '--wait', '3s');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /admits a server, not a worker/);
  const status = await n1.status();
  assert.ok(status !== null);
  assert.equal(status.voters, 3);
  assert.deepEqual(status.members.map((m) => m.id).sort(), ['node-1', 'node-2', 'node-3'], 'workers are not Raft members');
  const api = await apiOf(n1);
  const listed = (await api.call('GET', '/v1/nodes')).body.nodes as { id: string; role: string; status: string }[];
  assert.deepEqual(listed.map((n) => `${n.id} ${n.role} ${n.status}`).sort(), ['node-1 server ready', 'node-10 worker ready', 'node-11 worker ready', 'node-2 server ready', 'node-3 server ready']);
});

test('count 3: three copies serve; an agent restart re-attaches; SIGKILL of an agent is replaced after its watchdog timeout, never earlier; a drain keeps count - 1 serving', async () => {
  const api = await apiOf(servers[1] as CliNode);
  const submitted = await api.call('POST', '/v1/jobs', recordingJob('web', count, eventsFile));
  assert.equal(submitted.status, 200, JSON.stringify(submitted.body));
  const running = await until('three copies running', async () => {
    const all = live(await allocations(api, 'web'));
    return all.length === count ? all : null;
  });
  assert.equal(await serving(running), count, 'every copy answers on its port with its allocation id');
  assert.deepEqual([...new Set(running.map((a) => a.node))].sort(), ['node-10', 'node-11'], 'spread over both workers');
  const operator = servers[0] as CliNode;
  const list = await operator.ok('node', 'list');
  assert.match(list, /^node-10 +worker +ready +\d+\.\d GB free +[12] jobs?$/m);
  assert.match(list, /^node-11 +worker +ready +\d+\.\d GB free +[12] jobs?$/m);
  assert.match(await operator.ok('node', 'info', 'node-10'), /^node: {9}node-10\nrole: {9}worker\nstate: {8}ready\naddress: {6}127\.0\.41\.10\n/);
  const logs = await operator.ok('job', 'logs', 'web');
  for (const a of running) assert.match(logs, new RegExp(`${a.id.replace(/\./g, '\\.')} serving`), 'job logs reads each copy\'s output from its worker');

  // A changed job rolls out one copy at a time (the overlap analysis at the end checks the count).
  const updated = await api.call('POST', '/v1/jobs', { ...recordingJob('web', count, eventsFile), env: { EVENTS_FILE: eventsFile, RELEASE: '2' } });
  assert.equal(updated.body.version, 2);
  const rolled = await until(
    'every copy at version 2',
    async () => {
      const all = live(await allocations(api, 'web'));
      return all.length === count && all.every((a) => a.version === 2) ? all : null;
    },
    30_000,
  );
  running.splice(0, running.length, ...rolled);

  // The server both agents heartbeat to first dies: they move to the next, nothing is fenced.
  const stopsBefore = (await readEvents(eventsFile)).filter((e) => e.event === 'stop').length;
  await operator.kill();
  await sleep(2 * watchdogMs);
  assert.equal((await readEvents(eventsFile)).filter((e) => e.event === 'stop').length, stopsBefore, 'no copy stopped while a server was down');
  assert.equal(await serving(running), count);

  // A graceful agent restart (SIGTERM, start again at once) takes its copies over.
  const restartedNode = running[0]?.node;
  const restarted = workers[restartedNode === 'node-10' ? 0 : 1] as CliNode;
  const startsBefore = (await readEvents(eventsFile)).filter((e) => e.event === 'start').length;
  await restarted.ok('stop');
  await restarted.ok('agent');
  await sleep(1500);
  assert.equal((await readEvents(eventsFile)).filter((e) => e.event === 'start').length, startsBefore, 'no copy started again');
  assert.deepEqual(live(await allocations(api, 'web')).map((a) => a.id).sort(), running.map((a) => a.id).sort(), 'the same allocations run');
  assert.equal(await serving(running), count);

  // SIGKILL the agent with the most copies.
  const victimId = running.filter((a) => a.node === 'node-10').length >= 2 ? 'node-10' : 'node-11';
  const victim = workers[victimId === 'node-10' ? 0 : 1] as CliNode;
  const victimCopies = running.filter((a) => a.node === victimId);
  const knownBefore = new Set((await allocations(api, 'web')).map((a) => a.id));
  const killedAt = Date.now();
  await victim.kill();
  const replaced = await until(
    'the lost copies replaced on the other worker',
    async () => {
      const all = live(await allocations(api, 'web'));
      return all.length === count && all.every((a) => a.node !== victimId) ? all : null;
    },
    20_000,
  );
  const events = await readEvents(eventsFile);
  const replacements = events.filter((e) => e.event === 'start' && !knownBefore.has(e.id));
  assert.equal(replacements.length, victimCopies.length, 'one replacement per lost copy');
  // The leader replaces a node's copies once its heartbeat has been missing for the watchdog
  // timeout + 1 s; the last one came at most a heartbeat interval (1 s) before the kill.
  const lastStop = Math.max(...victimCopies.map((c) => events.find((e) => e.id === c.id && e.event === 'stop')?.at ?? Infinity));
  for (const start of replacements) {
    assert.ok(start.at >= killedAt + watchdogMs - heartbeatSlackMs, `replacement ${start.id} started ${start.at - killedAt} ms after the kill, before the ${watchdogMs} ms watchdog timeout`);
    assert.ok(start.at > lastStop, `replacement ${start.id} started before the lost copies had stopped`);
  }
  for (const copy of victimCopies) {
    const stop = events.find((e) => e.id === copy.id && e.event === 'stop');
    assert.ok(stop !== undefined, `the lost copy ${copy.id} was stopped by its supervisor (self-fencing)`);
    assert.ok(stop.at < killedAt + watchdogMs, `the lost copy ${copy.id} stopped ${stop.at - killedAt} ms after the kill, not before the watchdog timeout`);
  }
  process.stdout.write(`# lost copies stopped ${victimCopies.map((c) => (events.find((e) => e.id === c.id && e.event === 'stop')?.at ?? 0) - killedAt).join(', ')} ms after the kill; replacements started ${replacements.map((e) => e.at - killedAt).join(', ')} ms after\n`);
  assert.equal(await serving(replaced), count);
  const lost = (await allocations(api, 'web')).filter((a) => victimCopies.some((c) => c.id === a.id));
  assert.deepEqual(lost.map((a) => a.status), victimCopies.map(() => 'lost'));

  // The killed agent comes back; then the other worker is drained onto it.
  await victim.ok('agent');
  const drained = replaced[0]?.node ?? '';
  const moving = await until('the returned worker is ready', async () => {
    const listed = (await api.call('GET', '/v1/nodes')).body.nodes as { id: string; status: string }[];
    return listed.find((n) => n.id === victimId)?.status === 'ready' ? true : null;
  });
  assert.ok(moving);
  const drain = await api.call('POST', `/v1/nodes/${drained}/drain`, { enable: true });
  assert.equal(drain.status, 200, JSON.stringify(drain.body));
  let fewest = count;
  const moved = await until(
    'every copy moved off the drained node',
    async () => {
      const all = await allocations(api, 'web');
      const current = all.filter((a) => a.desired === 'run' || a.status === 'running');
      fewest = Math.min(fewest, await serving(current));
      const up = live(all);
      return up.length === count && up.every((a) => a.node === victimId) ? up : null;
    },
    30_000,
  );
  assert.ok(fewest >= count - 1, `only ${fewest} copies answered at one point of the drain`);
  assert.equal(await serving(moved), count);
  process.stdout.write(`# drain: at least ${fewest} of ${count} copies answered at every check\n`);
  const nodesNow = (await api.call('GET', '/v1/nodes')).body.nodes as { id: string; jobs: number; draining: boolean }[];
  assert.deepEqual(nodesNow.filter((n) => n.id === drained).map((n) => [n.jobs, n.draining]), [[0, true]]);

  // Over everything: never more than `count` copies at once, never one copy twice.
  const all = intervals(await readEvents(eventsFile), Date.now());
  const peak = maxConcurrent(all);
  assert.ok(peak.count <= count, `${peak.count} copies ran at once at ${new Date(peak.at).toISOString()}`);
  assert.deepEqual(sameCopyOverlaps(all), []);
  const stopped = await api.call('DELETE', '/v1/jobs/web');
  assert.equal(stopped.status, 200);
  await until('every copy stopped', async () => ((await allocations(api, 'web')).some((a) => a.status === 'running') ? null : true));
});
