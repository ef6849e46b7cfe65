/**
 * The events stream on a real 3-node cluster (127.0.62.x, issue 10). A follower's stream
 * (GET /v1/events?follow=true over HTTPS) and `quorate events --follow` on the other follower
 * are open while a job with one copy per node is placed and the leader is killed with SIGKILL.
 * The survivors' streams show a new leader in a higher term; the log-derived events follow on
 * both survivors alike (every node applies the same log): the dead node lost, fenced by its
 * watchdog and down, its copy replaced elsewhere, and, once an operator removes it, the member
 * removed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClusterEventJson, EventsJson } from '../../src/api/index.js';
import type { JobSpec } from '../../src/state/index.js';
import { finished, spawnCli } from '../cli/run-cli.js';
import { adminToken, E2eCluster } from './harness.js';
import { httpsLines } from './https-request.js';

const watchdogMs = 2000;

const sleeper: JobSpec = {
  name: 'sleeper',
  count: 3,
  command: process.execPath,
  args: ['-e', 'setInterval(() => {}, 1000)'],
  env: {},
  workdir: null,
  ports: [],
  stopGraceMs: 1000,
  resources: { memoryMb: 16, cpu: 0.1 },
  restart: { policy: 'always', attempts: 3, delayMs: 200, windowMs: 60_000 },
  constraints: { role: 'any', labels: {} },
  health: null,
  noQuorumPolicy: null,
};

/**
 * Reads a stream's events into `seen` until its node goes away. A stream that breaks early shows
 * as events missing from `seen`, which the waits below report with what was seen.
 */
async function collect(lines: AsyncGenerator<string>, seen: ClusterEventJson[]): Promise<void> {
  try {
    for await (const line of lines) {
      const json = JSON.parse(line) as ClusterEventJson | { type: 'progress' };
      if (json.type !== 'progress') seen.push(json);
    }
  } catch {
    // The connection was reset: the node was killed.
  }
}

async function until(what: string, check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; seen: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('a survivor streams the new leader, the dead node lost, fenced and down, its job replaced, and its removal', { timeout: 60_000 }, async () => {
  const cluster = await E2eCluster.create({ block: 62, extraConfig: `watchdog_timeout_ms = ${watchdogMs}` });
  let reading: Promise<void> | null = null;
  try {
    await cluster.startAll();
    const leader = await cluster.waitForLeader([0, 1, 2]);
    const leaderId = String(leader + 1);
    const [follower, other] = [0, 1, 2].filter((i) => i !== leader) as [number, number];
    const opened = await httpsLines(`${cluster.api(follower)}/v1/events?from=0&follow=true`, { ca: cluster.caPem, headers: { authorization: `Bearer ${adminToken}` }, timeoutMs: 60_000 });
    assert.equal(opened.status, 200);
    const seen: ClusterEventJson[] = [];
    reading = collect(opened.lines, seen);
    const cli = spawnCli(['events', '--follow', '--endpoints', cluster.api(other), '--ca-file', cluster.caFile, '--admin-token', adminToken]);
    const cliDone = finished(cli);
    const show = (): string => seen.map((e) => `${e.seq} ${e.type} ${e.node ?? '-'}`).join(', ');
    await until('the leader in the stream', () => seen.some((e) => e.type === 'leader_elected' && e.node === leaderId), 5000, show);
    const oldTerm = seen.find((e) => e.type === 'leader_elected' && e.node === leaderId)?.term ?? Infinity;

    // Every node registered to run jobs, so that the copies spread one per node.
    await until('three nodes ready', () => new Set(seen.filter((e) => e.type === 'node_ready').map((e) => e.node)).size === 3, 10_000, show);
    assert.equal((await cluster.request(leader, 'POST', '/v1/jobs', JSON.stringify(sleeper))).status, 200);
    await until('three placements', () => seen.filter((e) => e.type === 'job_placed' && e.job === 'sleeper').length === 3, 15_000, show);
    const victimCopy = seen.find((e) => e.type === 'job_placed' && e.node === leaderId);
    assert.ok(victimCopy !== undefined, `one copy runs on the leader ${leaderId}: ${show()}`);

    await cluster.signal(leader, 'SIGKILL');
    const elected = (): ClusterEventJson | undefined => seen.find((e) => e.type === 'leader_elected' && e.node !== leaderId && (e.term ?? 0) > oldTerm);
    await until('a new leader in a higher term', () => elected() !== undefined, 10_000, show);
    const order = ['node_lost', 'node_fenced', 'node_down', 'job_replaced'];
    await until('the dead node fenced and its copy replaced', () => seen.some((e) => e.type === 'job_replaced'), 20_000, show);
    const failover = seen.filter((e) => order.includes(e.type));
    assert.deepEqual(
      failover.map((e) => [e.type, e.type === 'job_replaced' ? 'elsewhere' : e.node]),
      order.map((type) => [type, type === 'job_replaced' ? 'elsewhere' : leaderId]),
      show(),
    );
    const replaced = failover.at(-1);
    assert.ok(replaced?.node !== leaderId && replaced?.job === 'sleeper');
    assert.match(replaced.message, new RegExp(`its allocation on ${leaderId} was lost$`));

    assert.equal((await cluster.request(follower, 'DELETE', `/v1/cluster/members/${leaderId}`)).status, 200);
    await until('the member removed', () => seen.some((e) => e.type === 'member_removed' && e.node === leaderId), 10_000, show);

    // The other survivor derived the same events from the same log, under its own numbers.
    const page = (await cluster.request(other, 'GET', '/v1/events')).body as unknown as EventsJson;
    const derived = (events: readonly ClusterEventJson[]): string[] => events.filter((e) => [...order, 'member_removed', 'job_placed'].includes(e.type)).map((e) => `${e.type} ${e.node ?? ''} ${e.message}`);
    assert.deepEqual(derived(page.events), derived(seen));
    assert.equal(page.next, (page.events.at(-1)?.seq ?? 0) + 1);

    cli.kill('SIGINT');
    const result = await cliDone;
    assert.equal(result.code, 0, result.stderr);
    const newLeader = elected();
    assert.ok(newLeader !== undefined);
    assert.match(result.stdout, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ  leader_elected  ${newLeader.node}  ${newLeader.node} was elected leader \\(term ${newLeader.term}\\)$`, 'm'));
    assert.match(result.stdout, new RegExp(`  member_removed  ${leaderId}  ${leaderId} was removed from the cluster$`, 'm'));

    await cluster.request(follower, 'DELETE', '/v1/jobs/sleeper');
  } finally {
    await cluster.stop();
    await reading;
  }
});
