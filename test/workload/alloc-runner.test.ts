/**
 * One allocation on real processes: it is reported running (after its HTTP health check passes,
 * with the QUORATE_* variables in its environment), restarted by its policy until the attempts
 * are used up and then failed, completed when it exits cleanly under on-failure, stopped when
 * told, and taken over after an agent restart by a new runner that can stop it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Allocation, JobSpec } from '../../src/state/index.js';
import type { TaskState } from '../../src/workload/driver.js';
import { AllocRunner, type AllocReport } from '../../src/workload/alloc-runner.js';
import { ProcessDriver, processStartTicks } from '../../src/workload/process-driver.js';
import { webJob } from './job-fixture.js';

const base: JobSpec = { ...webJob, command: process.execPath, stopGraceMs: 2000, restart: { policy: 'on-failure', attempts: 2, delayMs: 50, windowMs: 60_000 } };

function allocation(port: number): Allocation {
  return { id: `web.0.${port}`, job: 'web', version: 1, index: 0, node: 'n1', ports: { http: port }, memoryMb: 64, cpu: 0.1, desired: 'run', status: 'pending', restarts: 0, exitCode: null, message: '', seq: 1 };
}

async function setup(t: { after(fn: () => Promise<void>): void }): Promise<{ driver: ProcessDriver; root: string }> {
  const root = await mkdtemp(join(tmpdir(), 'quorate-alloc-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return { root, driver: new ProcessDriver({ root, logBytesMax: 1 << 20, logFilesMax: 1, pollMs: 50 }) };
}

function runner(driver: ProcessDriver, spec: JobSpec, port: number, states: (TaskState | null)[] = []): { runner: AllocRunner; reports: AllocReport[]; next: (status: string) => Promise<AllocReport> } {
  const reports: AllocReport[] = [];
  const waiters: { status: string; resolve: (r: AllocReport) => void }[] = [];
  const r = new AllocRunner({
    allocation: allocation(port),
    spec,
    noQuorumPolicy: 'stop',
    driver,
    nodeAddress: '127.0.0.1',
    report: (report) => {
      reports.push(report);
      for (const w of waiters.filter((w) => w.status === report.status)) w.resolve(report);
    },
    remember: (state) => {
      states.push(state);
      return Promise.resolve();
    },
  });
  const next = (status: string): Promise<AllocReport> => new Promise((resolve) => waiters.push({ status, resolve }));
  return { runner: r, reports, next };
}

const server = `
const http = require('http');
const ready = Date.now() + 300;
http.createServer((req, res) => {
  if (Date.now() < ready) { res.writeHead(503); res.end(); return; }
  res.end(JSON.stringify({ id: process.env.QUORATE_ALLOC_ID, index: process.env.QUORATE_ALLOC_INDEX, job: process.env.QUORATE_JOB, greeting: process.env.GREETING }));
}).listen(Number(process.env.QUORATE_PORT_HTTP), process.env.QUORATE_NODE_ADDRESS);
process.on('SIGTERM', () => process.exit(0));`;

test('running once the health check passes, with the QUORATE_* environment; stop completes it', async (t) => {
  const { driver } = await setup(t);
  const port = 24100 + Math.floor(Math.random() * 500);
  const spec: JobSpec = { ...base, args: ['-e', server], env: { GREETING: 'hi' }, health: { kind: 'http', port: 'http', path: '/health', intervalMs: 50, timeoutMs: 500 } };
  const began = Date.now();
  const { runner: r, reports, next } = runner(driver, spec, port);
  await next('running');
  assert.ok(Date.now() - began >= 300, 'not running before healthy');
  const answer = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as Record<string, string>;
  assert.deepEqual(answer, { id: `web.0.${port}`, index: '0', job: 'web', greeting: 'hi' });
  await r.stop();
  assert.deepEqual(reports.at(-1), { status: 'complete', restarts: 0, exitCode: 0, message: 'stopped' });
});

test('on-failure restarts up to the attempts, then the copy has failed; a clean exit completes', async (t) => {
  const { driver } = await setup(t);
  const crashing = runner(driver, { ...base, ports: [], args: ['-e', 'process.exit(4)'] }, 1);
  await crashing.runner.ended;
  assert.deepEqual(
    crashing.reports.map((r) => [r.status, r.restarts]),
    [
      ['running', 0],
      ['pending', 1],
      ['running', 1],
      ['pending', 2],
      ['running', 2],
      ['failed', 2],
    ],
  );
  assert.match(crashing.reports.at(-1)?.message ?? '', /exited with 4; 2 restarts within 60 s used up/);
  const clean = runner(driver, { ...base, ports: [], args: ['-e', 'process.exit(0)'] }, 2);
  await clean.runner.ended;
  assert.deepEqual(clean.reports.at(-1), { status: 'complete', restarts: 0, exitCode: 0, message: 'exited with 0' });
});

test('after an agent restart a new runner takes the task over and can stop it', async (t) => {
  const { driver, root } = await setup(t);
  const states: (TaskState | null)[] = [];
  const first = runner(driver, { ...base, ports: [], args: ['-e', 'setInterval(() => {}, 1000)'] }, 3, states);
  await first.next('running');
  const state = states.at(-1);
  assert.ok(state !== null && state !== undefined);
  // The old agent shuts down leaving its task running; a new driver finds it.
  first.runner.detach();
  const restarted = new ProcessDriver({ root, logBytesMax: 1 << 20, logFilesMax: 1, pollMs: 50 });
  const handle = await restarted.recover(state);
  assert.ok(handle !== null);
  const reports: AllocReport[] = [];
  const second = new AllocRunner({ allocation: allocation(3), spec: { ...base, ports: [] }, noQuorumPolicy: 'stop', driver: restarted, nodeAddress: '127.0.0.1', report: (r) => reports.push(r), remember: () => Promise.resolve() }, handle);
  await second.stop();
  assert.equal(reports.at(-1)?.status, 'complete');
  assert.equal(await processStartTicks(state.pid), null, 'the task is gone');
});

test('a restart waits while the node may not start anything (cut off from the leader), and a stop meanwhile completes it', async (t) => {
  const { driver } = await setup(t);
  const contact = { ok: false };
  const states: (TaskState | null)[] = [];
  const reports: AllocReport[] = [];
  const spec: JobSpec = { ...base, ports: [], args: ['-e', 'process.exit(4)'], restart: { policy: 'always', attempts: 5, delayMs: 50, windowMs: 60_000 } };
  const make = (port: number): AllocRunner =>
    new AllocRunner({ allocation: allocation(port), spec, noQuorumPolicy: 'freeze', driver, nodeAddress: '127.0.0.1', report: (r) => reports.push(r), remember: (s) => Promise.resolve(void states.push(s)), mayStart: () => contact.ok });
  const started = (): number => states.filter((s) => s !== null).length;
  const r = make(5);
  for (let i = 0; i < 100 && !reports.some((x) => x.status === 'pending'); i++) await sleep(20);
  await sleep(600);
  assert.equal(started(), 1, 'not restarted while cut off');
  contact.ok = true;
  for (let i = 0; i < 100 && started() < 2; i++) await sleep(20);
  assert.ok(started() >= 2, 'restarted once in contact again');
  await r.stop();

  contact.ok = false;
  states.length = 0;
  reports.length = 0;
  const waiting = make(6);
  for (let i = 0; i < 100 && !reports.some((x) => x.status === 'pending'); i++) await sleep(20);
  await sleep(200);
  await waiting.stop();
  assert.equal(started(), 1);
  assert.deepEqual(reports.at(-1), { status: 'complete', restarts: 1, exitCode: 4, message: 'stopped' });
});
