/**
 * The client's workload calls against a real single node (test/api/single-node.ts), which runs
 * jobs itself: a tiny job (this Node binary printing a line, then idling) is submitted, found
 * running through jobStatus, listed, its output read with allocationLogs (once and followed),
 * then stopped until its allocation ends; nodes, drain and eligibility round-trip the node's
 * flags. Admin calls carry the token a TOML cluster derives from its secret; without it they
 * are refused with 401, and an unknown job or allocation is a 404.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobStatusJson } from '../../src/api/index.js';
import { QuorateClient } from '../../src/client/index.js';
import { isEnded, type JobSpec } from '../../src/state/index.js';
import { SingleNode, singleNodeAdminToken } from '../api/single-node.js';
import { webJob } from '../workload/job-fixture.js';
import { clientError } from './client-error.js';

const waitMs = 20_000;
const pollMs = 100;
const greeting = 'hello from the job';

let server: SingleNode;
let admin: QuorateClient;
let anonymous: QuorateClient;

const job: JobSpec = {
  ...webJob,
  name: 'tiny',
  command: process.execPath,
  args: ['-e', `console.log(${JSON.stringify(greeting)}); setInterval(() => {}, 1000)`],
  ports: [],
  resources: { memoryMb: 16, cpu: 0.1 },
  constraints: { role: 'any', labels: {} },
};

before(async () => {
  server = await SingleNode.start();
  admin = new QuorateClient({ endpoints: [server.url], token: singleNodeAdminToken });
  anonymous = new QuorateClient({ endpoints: [server.url] });
});

after(async () => {
  await server.stop();
});


/** Polls until `check` returns a value, for at most waitMs. */
async function eventually<T>(what: string, check: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(pollMs);
  }
}

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

test('calls without a token are refused; an unknown job is not found', async () => {
  for (const call of [anonymous.runJob(job), anonymous.stopJob('tiny'), anonymous.drainNode('1', true), anonymous.setNodeEligibility('1', false), anonymous.listJobs(), anonymous.nodes()]) {
    const error = await clientError(call);
    assert.equal(error.status, 401);
    assert.equal(error.code, 'unauthorized');
  }
  const missing = await clientError(admin.jobStatus('no-such-job'));
  assert.deepEqual([missing.status, missing.code], [404, 'not_found']);
  assert.match(missing.message, /no job no-such-job/);
  assert.equal((await clientError(admin.stopJob('no-such-job'))).status, 404);
  assert.equal((await clientError(text(anonymous.allocationLogs(server.url, 'tiny.0.x')))).status, 401);
});

test('a job runs, is listed, shows its output, and stops', async () => {
  assert.deepEqual(await admin.runJob(job), { name: 'tiny', version: 1 });
  assert.deepEqual(await admin.runJob(job), { name: 'tiny', version: 1 }, 'the same spec keeps its version');
  const running = await eventually('the allocation runs', async () => {
    const status = await admin.jobStatus('tiny');
    return status.allocations.some((a) => a.status === 'running') ? status : null;
  });
  assert.equal(running.job.version, 1);
  assert.deepEqual(running.blocked, []);
  const allocation = running.allocations.find((a) => a.status === 'running');
  assert.ok(allocation !== undefined);
  assert.deepEqual(
    (await admin.listJobs()).find((j) => j.name === 'tiny'),
    { name: 'tiny', version: 1, count: 1, stopped: false, allocations: { pending: 0, running: 1, failed: 0, complete: 0, lost: 0 } },
  );
  const [self] = await admin.nodes();
  assert.deepEqual([self?.id, self?.role, self?.status, self?.jobs], [allocation.node, 'server', 'ready', 1]);

  // The single node serves its allocations' logs on its own API.
  await eventually('the output is in the log', async () => ((await text(admin.allocationLogs(server.url, allocation.id))).includes(greeting) ? true : null));
  assert.equal(await text(admin.allocationLogs(server.url, allocation.id, { stream: 'stderr' })), '');
  const following = new AbortController();
  let followed = '';
  for await (const chunk of admin.allocationLogs(server.url, allocation.id, { follow: true, offset: 0, signal: following.signal })) {
    followed += chunk;
    if (followed.includes(greeting)) following.abort();
  }
  assert.match(followed, new RegExp(greeting), 'aborting the signal ends a followed log quietly');
  assert.equal((await clientError(text(admin.allocationLogs(server.url, 'tiny.0.unknown')))).code, 'not_found');

  await admin.stopJob('tiny');
  const stopped: JobStatusJson = await eventually('the allocation ends', async () => {
    const status = await admin.jobStatus('tiny');
    return status.allocations.every(isEnded) ? status : null;
  });
  assert.equal(stopped.job.stopped, true);
  assert.ok(stopped.allocations.every((a) => a.desired === 'stop'));
  assert.equal((await admin.listJobs()).find((j) => j.name === 'tiny')?.stopped, true);
});

test('drain and eligibility set the flags nodes() reports', async () => {
  const [self] = await eventually('the node has registered', async () => {
    const nodes = await admin.nodes();
    return nodes.length > 0 ? nodes : null;
  });
  assert.ok(self !== undefined);
  assert.deepEqual([self.eligible, self.draining], [true, false]);
  await admin.drainNode(self.id, true);
  await admin.setNodeEligibility(self.id, false);
  assert.deepEqual((await admin.nodes()).map((n) => [n.id, n.draining, n.eligible]), [[self.id, true, false]]);
  await admin.drainNode(self.id, false);
  await admin.setNodeEligibility(self.id, true);
  assert.deepEqual((await admin.nodes()).map((n) => [n.id, n.draining, n.eligible]), [[self.id, false, true]]);
  assert.equal((await clientError(admin.drainNode('no-such-node', true))).status, 404);
});
