/**
 * Fence devices on real commands (deploy/fence-agents/fence_record, which records what it was
 * asked): levels are tried in order and a level needs every device; retries; a device that does
 * not answer in time fails; and a fencing file is read into the configuration.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FenceDevice } from '../../src/state/index.js';
import { fenceWithDevices, loadFencingFile } from '../../src/workload/index.js';
import { fencingConfigProblem } from '../../src/state/index.js';

const agent = fileURLToPath(new URL('../../../deploy/fence-agents/fence_record', import.meta.url));
const target = { id: 'node-2', address: '127.0.0.2' };

async function logDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-fence-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function device(name: string, log: string, extra: string[] = [], more: Partial<FenceDevice> = {}): FenceDevice {
  return { name, command: agent, args: ['--log', log, ...extra], timeoutMs: 5000, retries: 0, ...more };
}

async function lines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
}

test('level 1 fails, level 2 (two devices) succeeds: fenced, and each device was asked to turn the node off', async (t) => {
  const dir = await logDir(t);
  const outcome = await fenceWithDevices(
    [
      { level: 2, devices: [device('pdu-a', join(dir, 'pdu-a')), device('pdu-b', join(dir, 'pdu-b'))] },
      { level: 1, devices: [device('ipmi', join(dir, 'ipmi'), ['--exit', '1'], { retries: 1 })] },
    ],
    target,
  );
  assert.equal(outcome.fenced, true);
  assert.equal(outcome.detail, 'level 1: ipmi failed (exit 1: fence_record: failing as told (exit 1); 2 attempts); level 2: pdu-a ok, pdu-b ok');
  assert.deepEqual(await lines(join(dir, 'ipmi')), ['off node-2 127.0.0.2', 'off node-2 127.0.0.2'], 'tried again once');
  assert.deepEqual(await lines(join(dir, 'pdu-a')), ['off node-2 127.0.0.2']);
  assert.deepEqual(await lines(join(dir, 'pdu-b')), ['off node-2 127.0.0.2']);
});

test('every level fails: not fenced, and the detail says why; a device that hangs fails at its timeout', async (t) => {
  const dir = await logDir(t);
  const started = Date.now();
  const outcome = await fenceWithDevices(
    [
      { level: 1, devices: [device('ipmi', join(dir, 'ipmi'), ['--sleep', '5'], { timeoutMs: 300 })] },
      { level: 2, devices: [device('pdu-a', join(dir, 'pdu-a')), device('pdu-b', join(dir, 'pdu-b'), ['--exit', '2'])] },
    ],
    target,
  );
  assert.equal(outcome.fenced, false);
  assert.match(outcome.detail, /^every level failed: level 1: ipmi failed \(no answer within 300 ms\); level 2: pdu-a ok, pdu-b failed \(exit 2: fence_record: failing as told \(exit 2\)\)$/);
  assert.ok(Date.now() - started < 3000, 'the hung device was cut off');
  assert.deepEqual(await fenceWithDevices([], target), { fenced: false, detail: 'no fence devices are configured' });
});

test('a fencing file: levels, devices, durations; fence_delay must exceed every watchdog timeout', async (t) => {
  const dir = await logDir(t);
  const file = join(dir, 'fencing.toml');
  await writeFile(
    file,
    `watchdog = false\nfence_delay = "6s"\n[[level]]\nlevel = 1\n[[level.device]]\nname = "ipmi"\ncommand = "${agent}"\nargs = ["--log", "x"]\ntimeout = "2s"\nretries = 2\n`,
  );
  const config = await loadFencingFile(file);
  assert.deepEqual(config, { noQuorumPolicy: 'stop', watchdog: false, fenceDelayMs: 6000, levels: [{ level: 1, devices: [{ name: 'ipmi', command: agent, args: ['--log', 'x'], timeoutMs: 2000, retries: 2 }] }] });
  assert.equal(fencingConfigProblem(config, new Map([['node-10', 5000]])), null);
  assert.match(fencingConfigProblem(config, new Map([['node-10', 6000]])) ?? '', /^fence_delay \(6000 ms\) must be greater than the watchdog timeout of every node, but node-10 stops its jobs only 6000 ms after losing contact/);
  await writeFile(file, '[[level]]\nlevel = 1\n');
  await assert.rejects(loadFencingFile(file), /fencing\.toml: level\.0\.device: Required|fencing\.toml: level\.0\.device/);
});
