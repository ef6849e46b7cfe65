/**
 * The agent on real processes with a scripted leader (an in-memory link): it runs what the
 * answer lists for its node and reports it running; stops a copy the answer no longer wants;
 * fences itself when no heartbeat is answered for the watchdog timeout (the task ends before
 * the deadline its last answer earned); and a new agent on the same directory re-attaches to a
 * running copy instead of starting a second one; an allocation stopped before it started here is
 * reported ended (it would count as running forever).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import type { Allocation, JobSpec } from '../../src/state/index.js';
import { silentLogger } from '../../src/util/log.js';
import { startAgent, type Agent, type AllocStatusReport, type HeartbeatRequest, type HeartbeatResponse } from '../../src/workload/index.js';
import { processStartTicks } from '../../src/workload/process-driver.js';
import { webJob } from './job-fixture.js';

const watchdogTimeoutMs = 1500;
const spec: JobSpec = { ...webJob, command: process.execPath, args: ['-e', 'process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000)'], ports: [], stopGraceMs: 1000 };

function allocation(desired: 'run' | 'stop', status: Allocation['status'] = 'pending'): Allocation {
  return { id: 'web.0.a1', job: 'web', version: 1, index: 0, node: 'w1', ports: {}, memoryMb: 64, cpu: 0.1, desired, status, restarts: 0, exitCode: null, message: '', seq: 1 };
}

/** A leader in a box: answers with `wanted`, records reports; `down` makes it unreachable. */
class ScriptedLeader {
  wanted: Allocation[] = [allocation('run')];
  down = false;
  /** The job's no-quorum policy is freeze instead of the cluster's stop. */
  frozen = false;
  /** What the agent learned of the servers from the answers. */
  learned: readonly string[] = [];

  learnServers(servers: readonly string[]): void {
    this.learned = servers;
  }
  readonly reports: AllocStatusReport[] = [];

  heartbeat(request: HeartbeatRequest): Promise<HeartbeatResponse> {
    if (this.down) return Promise.reject(new Error('unreachable'));
    this.reports.push(...request.reports);
    return Promise.resolve({ leader: 'node-1', allocations: this.wanted, jobs: [{ version: 1, spec: { ...spec, noQuorumPolicy: this.frozen ? 'freeze' : null } }], logReaders: { adminTokenHash: null, tokens: [] }, noQuorumPolicy: 'stop', servers: ['10.0.0.1:8080', '10.0.0.2:8080'] });
  }

  async until(status: string): Promise<void> {
    for (let i = 0; i < 100 && !this.reports.some((r) => r.status === status); i++) await sleep(50);
    assert.ok(this.reports.some((r) => r.status === status), `no ${status} report (got ${JSON.stringify(this.reports.map((r) => r.status))})`);
  }
}

async function agentIn(dir: string, leader: ScriptedLeader): Promise<Agent> {
  return startAgent({ id: 'w1', role: 'worker', address: '127.0.0.1', apiAddress: '127.0.0.1:8080', watchdogTimeoutMs, dir, link: leader, heartbeatMs: 100, log: silentLogger, memoryMb: 1024, cpu: 2 });
}

async function taskPid(agent: Agent, dir: string): Promise<number> {
  assert.deepEqual(agent.runningAllocations(), ['web.0.a1']);
  const record = JSON.parse(await readFile(join(dir, 'alloc', 'web.0.a1', 'alloc.json'), 'utf8')) as { task: { pid: number } | null };
  assert.ok(record.task !== null);
  return record.task.pid;
}

/**
 * Stop the agent, then remove its directory: one hook, in that order (a running agent still
 * writes there, and removing first fails with ENOTEMPTY).
 */
function cleanUp(t: { after(fn: () => Promise<void>): void }, dir: string, agent: () => Agent | undefined): void {
  t.after(async () => {
    await agent()?.stop('stop-jobs');
    await rm(dir, { recursive: true, force: true });
  });
}

/** An agent in a fresh directory, running the scripted leader's allocation. */
async function runningAgent(t: { after(fn: () => Promise<unknown>): void }): Promise<{ leader: ScriptedLeader; agent: Agent; pid: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-agent-'));
  const leader = new ScriptedLeader();
  const agent = await agentIn(dir, leader);
  cleanUp(t, dir, () => agent);
  await leader.until('running');
  return { leader, agent, pid: await taskPid(agent, dir) };
}

test('runs what the leader wants, stops what it no longer wants', async (t) => {
  const { leader, agent, pid } = await runningAgent(t);
  leader.wanted = [allocation('stop', 'running')];
  await leader.until('complete');
  assert.equal(await processStartTicks(pid), null, 'the task ended');
  assert.deepEqual(agent.runningAllocations(), []);
});

test('an allocation told to stop before it ever ran here is reported complete, and nothing starts', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-agent-'));
  const leader = new ScriptedLeader();
  leader.wanted = [allocation('stop', 'pending')];
  const agent = await agentIn(dir, leader);
  cleanUp(t, dir, () => agent);
  await leader.until('complete');
  assert.deepEqual(agent.runningAllocations(), []);
  assert.equal(leader.reports.find((r) => r.status === 'complete')?.message, 'stopped before it started');
});

test('no answer for the watchdog timeout: the agent stops its jobs before the deadline', async (t) => {
  const { leader, agent, pid } = await runningAgent(t);
  leader.down = true;
  const cutOff = Date.now();
  while ((await processStartTicks(pid)) !== null) await sleep(20);
  const after = Date.now() - cutOff;
  assert.ok(after < watchdogTimeoutMs, `the task ended ${after} ms after the last answer could have come, past the ${watchdogTimeoutMs} ms watchdog`);
  // Back in contact: nothing is started again for an allocation that ended here.
  leader.down = false;
  await sleep(500);
  assert.deepEqual(agent.runningAllocations(), []);
});

test('a restarted agent re-attaches to the running task instead of starting another', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-agent-'));
  const leader = new ScriptedLeader();
  const agents: Agent[] = [];
  cleanUp(t, dir, () => agents.at(-1));
  const first = await agentIn(dir, leader);
  agents.push(first);
  await leader.until('running');
  const pid = await taskPid(first, dir);
  await first.stop('detach');
  assert.notEqual(await processStartTicks(pid), null, 'the task runs on without its agent');
  leader.wanted = [allocation('run', 'running')];
  const second = await agentIn(dir, leader);
  agents.push(second);
  await sleep(400);
  assert.equal(await taskPid(second, dir), pid, 'the same process, taken over');
  leader.wanted = [allocation('stop', 'running')];
  for (let i = 0; i < 60 && (await processStartTicks(pid)) !== null; i++) await sleep(50);
  assert.equal(await processStartTicks(pid), null, 'the new agent could stop it');
});

test('a hardware watchdog (a fake device file) is fed while the leader answers, starved once the fence expires, disarmed on a clean stop', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-agent-'));
  const device = join(dir, 'watchdog');
  const leader = new ScriptedLeader();
  leader.wanted = [];
  const holder: { agent?: Agent } = {};
  cleanUp(t, dir, () => holder.agent);
  const agent = await startAgent({ id: 'w1', role: 'worker', address: '127.0.0.1', apiAddress: '127.0.0.1:8080', watchdogTimeoutMs, dir, link: leader, heartbeatMs: 100, watchdogDevice: device, log: silentLogger });
  holder.agent = agent;
  const fed = async (): Promise<string> => readFile(device, 'utf8').catch(() => '');
  await sleep(2200);
  assert.match(await fed(), /^\.{1,3}$/, 'fed about once a second while answered');
  leader.down = true;
  await sleep(watchdogTimeoutMs + 300);
  const starved = await fed();
  await sleep(1500);
  assert.equal(await fed(), starved, 'not fed once nobody vouches for the node');
  leader.down = false;
  await sleep(1300);
  assert.ok((await fed()).length > starved.length, 'fed again once answered');
  await agent.stop('detach');
  assert.match(await fed(), /V$/, 'the magic close disarms the device');
});

/** A freeze-policy copy running, then the leader gone for `cutOffMs`: the agent, its task's pid and the leader. */
async function frozenCopyCutOff(t: TestContext, cutOffMs: number): Promise<{ dir: string; leader: ScriptedLeader; agent: Agent; pid: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-agent-'));
  const leader = new ScriptedLeader();
  leader.frozen = true;
  const agent = await agentIn(dir, leader);
  cleanUp(t, dir, () => agent);
  await leader.until('running');
  const pid = await taskPid(agent, dir);
  leader.down = true;
  await sleep(cutOffMs);
  return { dir, leader, agent, pid };
}

test('no-quorum policy freeze: the task keeps running past the fence, and the agent starts nothing new meanwhile', async (t) => {
  const { agent, pid } = await frozenCopyCutOff(t, watchdogTimeoutMs + 800);
  assert.notEqual(await processStartTicks(pid), null, 'the frozen task runs on without a leader');
  assert.deepEqual(agent.runningAllocations(), ['web.0.a1']);
});

test('no-quorum policy freeze: a task that dies while the node is cut off is restarted only once the leader answers again', async (t) => {
  const { dir, leader, pid } = await frozenCopyCutOff(t, watchdogTimeoutMs + 300);
  // The task and its supervisor die (a crash); the restart policy would start it again at once.
  process.kill(-pid, 'SIGKILL');
  await sleep(spec.restart.delayMs + 800);
  const record = async (): Promise<{ task: { pid: number } | null }> => JSON.parse(await readFile(join(dir, 'alloc', 'web.0.a1', 'alloc.json'), 'utf8')) as { task: { pid: number } | null };
  assert.equal((await record()).task, null, 'nothing started while cut off');
  leader.down = false;
  let again: { pid: number } | null = null;
  for (let i = 0; i < 60 && again === null; i++) {
    await sleep(50);
    again = (await record()).task;
  }
  assert.ok(again !== null && again.pid !== pid, 'restarted once the leader answers');
  assert.notEqual(await processStartTicks(again.pid), null);
});

test('one heartbeat round at a time: two answers that arrive together start a new allocation once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-agent-'));
  const out = join(dir, 'starts');
  // a0 ends after a moment (its status change asks for a heartbeat at once); a1 records each start.
  const crashing: JobSpec = { ...spec, name: 'crash', args: ['-e', 'setTimeout(() => process.exit(1), 300)'], restart: { policy: 'on-failure', attempts: 3, delayMs: 10_000, windowMs: 60_000 } };
  const recording: JobSpec = { ...spec, name: 'rec', env: { OUT: out }, args: ['-e', 'require("fs").appendFileSync(process.env.OUT, process.pid + "\\n"); process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000)'] };
  const a0: Allocation = { ...allocation('run'), id: 'crash.0.a0', job: 'crash' };
  const a1: Allocation = { ...allocation('run'), id: 'rec.0.a1', job: 'rec' };
  let wanted: Allocation[] = [a0];
  let hold = false;
  const held: (() => void)[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const answer = (): HeartbeatResponse => ({ leader: 'node-1', allocations: wanted, jobs: [{ version: 1, spec: crashing }, { version: 1, spec: recording }].filter((j) => wanted.some((a) => a.job === j.spec.name)), logReaders: { adminTokenHash: null, tokens: [] }, noQuorumPolicy: 'stop', servers: [] });
  const link = {
    heartbeat: async (): Promise<HeartbeatResponse> => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      try {
        if (hold) await new Promise<void>((resolve) => held.push(resolve));
        return answer();
      } finally {
        inFlight--;
      }
    },
  };
  const agent = await startAgent({ id: 'w1', role: 'worker', address: '127.0.0.1', apiAddress: '127.0.0.1:8080', watchdogTimeoutMs: 5000, dir, link, heartbeatMs: 100, log: silentLogger, memoryMb: 1024, cpu: 2 });
  t.after(async () => {
    await agent.stop('stop-jobs');
    // A second copy the agent lost track of would outlive it: end it here.
    for (const pid of (await readFile(out, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '')) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Gone.
      }
    }
    await rm(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 100 && !agent.runningAllocations().includes('crash.0.a0'); i++) await sleep(20);
  // From now on answers wait; a0 ends meanwhile and its report asks for another heartbeat.
  hold = true;
  await sleep(800);
  wanted = [a0, a1];
  for (const release of held.splice(0)) release();
  hold = false;
  await sleep(1000);
  const starts = (await readFile(out, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
  assert.equal(starts.length, 1, `a1 started ${starts.length} times`);
  assert.equal(mostInFlight, 1, 'heartbeat rounds never overlap');
});
