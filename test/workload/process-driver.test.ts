/**
 * The process driver on real processes: output lands in the task's log files and the exit code
 * is reported; stop sends SIGTERM to the whole process group and SIGKILL after the grace period;
 * a task outlives its driver and a new driver (an agent restart) finds it again by pid and start
 * time, but not a different process; logs rotate by copy-and-truncate while the task writes on;
 * a command that does not exist is a clear error.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isQuorateError } from '../../src/util/errors.js';
import { monotonicMs, writeFence } from '../../src/workload/fence.js';
import { logPath, ProcessDriver, processStartTicks, rotateIfLarge } from '../../src/workload/process-driver.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

async function driverIn(t: { after(fn: () => Promise<void>): void }): Promise<{ root: string; driver: ProcessDriver }> {
  const root = await mkdtemp(join(tmpdir(), 'quorate-driver-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return { root, driver: new ProcessDriver({ root, logBytesMax: 1024 * 1024, logFilesMax: 2, pollMs: 50 }) };
}

/** A Node.js task that ends when its node's fence (if the driver has one) expires. */
function node(script: string): { command: string; args: string[]; selfFence: true } {
  return { command: process.execPath, args: ['-e', script], selfFence: true };
}

async function alive(pid: number): Promise<boolean> {
  return (await processStartTicks(pid)) !== null;
}

test('output goes to the log files and the exit code is reported', async (t) => {
  const { root, driver } = await driverIn(t);
  const task = await driver.start({ id: 'a1', ...node('console.log("out line"); console.error("err line"); process.exit(3)'), env, workdir: null });
  assert.deepEqual(await task.exited, { code: 3, signal: null });
  assert.equal(await readFile(logPath(root, 'a1', 'stdout'), 'utf8'), 'out line\n');
  assert.equal(await readFile(logPath(root, 'a1', 'stderr'), 'utf8'), 'err line\n');
});

test('stop: SIGTERM to the process group, SIGKILL after the grace period', async (t) => {
  const { root, driver } = await driverIn(t);
  const polite = await driver.start({ id: 'p', ...node('process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000)'), env, workdir: null });
  await sleep(200);
  assert.deepEqual(await polite.stop(5000), { code: 0, signal: null });

  // A task that ignores SIGTERM and has a grandchild of its own: both go at the SIGKILL.
  const stubborn = await driver.start({
    id: 's',
    ...node('const { spawn } = require("child_process"); const c = spawn(process.execPath, ["-e", "process.on(\\"SIGTERM\\", () => {}); setInterval(() => {}, 1000)"], { stdio: "ignore" }); console.log(c.pid); process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'),
    env,
    workdir: null,
  });
  let grandchild = 0;
  for (let i = 0; i < 50 && grandchild === 0; i++) {
    await sleep(50);
    grandchild = Number((await readFile(logPath(root, 's', 'stdout'), 'utf8')).trim() || 0);
  }
  assert.ok(grandchild > 0, 'the task reported its child');
  const began = Date.now();
  assert.deepEqual(await stubborn.stop(300), { code: null, signal: 'SIGKILL' });
  assert.ok(Date.now() - began >= 300, 'SIGKILL only after the grace period');
  for (let i = 0; i < 40 && (await alive(grandchild)); i++) await sleep(50);
  assert.equal(await alive(grandchild), false, 'the whole process group was stopped');
});

test('a new driver re-attaches to a task that outlived the old one, and never to another process', async (t) => {
  const { root, driver } = await driverIn(t);
  const task = await driver.start({ id: 'r', ...node('process.on("SIGTERM", () => process.exit(0)); setInterval(() => console.log("tick"), 50)'), env, workdir: null });
  await sleep(200);
  const restarted = new ProcessDriver({ root, logBytesMax: 1024 * 1024, logFilesMax: 2, pollMs: 50 });
  assert.equal(await restarted.recover({ ...task.state, startTicks: task.state.startTicks + 1 }), null, 'a different start time is a different process');
  assert.equal(await restarted.recover({ ...task.state, driver: 'container' }), null);
  const found = await restarted.recover(task.state);
  assert.ok(found !== null);
  assert.deepEqual(await found.stop(5000), { code: 0, signal: null }, 'the supervisor recorded how the re-attached task ended');
  assert.equal(await alive(task.state.pid), false);
  assert.equal(await restarted.recover(task.state), null, 'an ended task is not found');
});

test('logs rotate by copy-and-truncate while the task keeps writing', async (t) => {
  const { root, driver } = await driverIn(t);
  const task = await driver.start({ id: 'l', ...node('let n = 0; const t = setInterval(() => { console.log("line " + n++); if (n === 40) { clearInterval(t); } }, 10)'), env, workdir: null });
  const stdout = logPath(root, 'l', 'stdout');
  await sleep(150);
  await rotateIfLarge(stdout, 10, 2);
  await task.exited;
  const rotated = await readFile(`${stdout}.1`, 'utf8');
  const current = await readFile(stdout, 'utf8');
  assert.match(rotated, /^line 0\n/);
  assert.match(current, /line 39\n$/);
  assert.ok(!current.includes('\0'), 'the writer continued at the start of the emptied file');
  await writeFile(`${stdout}.2`, 'oldest');
  await writeFile(stdout, 'x'.repeat(20));
  await rotateIfLarge(stdout, 10, 2);
  assert.equal(await readFile(`${stdout}.2`, 'utf8'), rotated, 'files shift by one; the oldest is dropped');
});

test('a command that does not exist is a clear error', async (t) => {
  const { driver } = await driverIn(t);
  await assert.rejects(driver.start({ id: 'x', command: 'no-such-command-quorate', args: [], env, workdir: null, selfFence: true }), (error: unknown) => {
    return isQuorateError(error, 'task_failed') && /cannot start no-such-command-quorate for x: .*ENOENT/.test(error.message);
  });
});

test('the fence: a task is stopped before the deadline its node last earned, with no agent around', async (t) => {
  const { root } = await driverIn(t);
  const fence = join(root, 'fence');
  await writeFence(fence, monotonicMs() + 1500);
  const fenced = new ProcessDriver({ root, logBytesMax: 1024 * 1024, logFilesMax: 2, pollMs: 50, fence: { path: fence, termLeadMs: 400, killLeadMs: 100, pollMs: 20 } });
  const polite = await fenced.start({ id: 'f1', ...node('process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000)'), env, workdir: null });
  const stubborn = await fenced.start({ id: 'f2', ...node('process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'), env, workdir: null });
  // Moving the deadline forward keeps them alive past the first one.
  await sleep(700);
  await writeFence(fence, monotonicMs() + 1500);
  const extended = monotonicMs();
  await sleep(600);
  assert.equal(await alive(polite.state.pid), true, 'alive while the fence holds');
  // The agent is gone now (nothing writes the fence): both end before the deadline.
  const [politeExit, stubbornExit] = await Promise.all([polite.exited, stubborn.exited]);
  const ended = monotonicMs();
  assert.deepEqual(politeExit, { code: 0, signal: null }, 'SIGTERM first');
  assert.equal(stubbornExit.signal, 'SIGKILL', 'SIGKILL for a task that ignores SIGTERM');
  assert.ok(ended < extended + 1500, `ended ${ended - extended} ms after the fence was moved, before its 1500 ms deadline`);
  assert.match(await readFile(logPath(root, 'f1', 'stderr'), 'utf8'), /self-fencing/);
});

test('the fence: a missing fence file lets nothing run', async (t) => {
  const { root } = await driverIn(t);
  const fenced = new ProcessDriver({ root, logBytesMax: 1024 * 1024, logFilesMax: 2, pollMs: 50, fence: { path: join(root, 'no-fence'), termLeadMs: 600, killLeadMs: 100, pollMs: 20 } });
  const task = await fenced.start({ id: 'f3', ...node('setInterval(() => {}, 1000)'), env, workdir: null }).catch((error: unknown) => error);
  // Killed at once: either start() saw it die, or it ends right after.
  if (task instanceof Error) return;
  const exit = await (task as Awaited<ReturnType<ProcessDriver['start']>>).exited;
  assert.equal(exit.signal, 'SIGKILL');
});
