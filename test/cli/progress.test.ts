/**
 * Progress of long CLI operations as pure functions of injected polls and clocks: the rate and
 * ETA from successive samples (a moving target, a restart, a stall), the ETA, byte and line
 * formats of `cluster join` (snapshot bytes, then entries) and `node drain`, and the output
 * itself: one line rewritten with \r on a terminal, throttled plain lines elsewhere.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MemberViewJson } from '../../src/api/index.js';
import { allocationsLeft, drainLine } from '../../src/cli/drain-follow.js';
import { JoinProgress } from '../../src/cli/join-progress.js';
import { formatBytes, formatEta, plainIntervalMs, ProgressLine, RateMeter } from '../../src/cli/progress.js';
import type { JobStatusJson } from '../../src/api/index.js';

test('the rate and ETA come from successive samples; unknown until two, null while not closing', () => {
  const meter = new RateMeter(10_000);
  meter.add(0, 0, 1000);
  assert.equal(meter.perSecond(), null);
  assert.equal(meter.etaMs(), null);
  meter.add(1000, 100, 1000);
  assert.equal(meter.perSecond(), 100);
  assert.equal(meter.etaMs(), 9000);
  // The target moves too (the cluster keeps writing): what counts is how fast the gap closes.
  meter.add(2000, 300, 1100);
  assert.equal(meter.perSecond(), 150);
  assert.equal(meter.etaMs(), 8000, '800 left, closing at 100 a second');
  meter.add(3000, 300, 1100);
  assert.ok(meter.etaMs() !== null, 'a pause within the window only slows the estimate');
  const stalled = new RateMeter();
  stalled.add(0, 10, 100);
  stalled.add(1000, 10, 120);
  assert.equal(stalled.etaMs(), null, 'a gap that grows has no ETA');
  const done = new RateMeter();
  done.add(0, 0, 5);
  done.add(500, 5, 5);
  assert.equal(done.etaMs(), 0);
});

test('old samples leave the window, and going backwards starts afresh', () => {
  const meter = new RateMeter(10_000);
  meter.add(0, 0, 10_000);
  meter.add(1000, 1000, 10_000);
  for (let t = 2000; t <= 30_000; t += 1000) meter.add(t, 1000 + (t - 1000) / 10, 10_000);
  assert.equal(meter.perSecond(), 100, 'the fast first second is forgotten');
  meter.add(31_000, 50, 10_000);
  assert.equal(meter.perSecond(), null);
  meter.add(32_000, 550, 10_000);
  assert.equal(meter.perSecond(), 500);
  assert.equal(meter.etaMs(), 18_900);
});

test('ETAs and byte counts read naturally', () => {
  assert.equal(formatEta(null), 'ETA ?');
  assert.equal(formatEta(Infinity), 'ETA ?');
  assert.equal(formatEta(0), 'ETA 0s');
  assert.equal(formatEta(1), 'ETA 1s');
  assert.equal(formatEta(44_200), 'ETA 45s');
  assert.equal(formatEta(185_000), 'ETA 3m 05s');
  assert.equal(formatEta(3_720_000), 'ETA 1h 02m');
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(40 * 1024 ** 2), '40.0 MiB');
  assert.equal(formatBytes(3 * 1024 ** 5), '3072.0 TiB');
});

function member(appliedIndex: number, snapshotReceiving?: { receivedBytes: number; totalBytes: number }): MemberViewJson {
  const report = { appliedIndex, ...(snapshotReceiving === undefined ? {} : { snapshotReceiving }) } as unknown as NonNullable<MemberViewJson['report']>;
  return { id: 'node-4', voter: false, report } as unknown as MemberViewJson;
}

test('cluster join shows the snapshot bytes, then the entries, each with a rate and an ETA', () => {
  const progress = new JoinProgress();
  const mib = 1024 ** 2;
  assert.equal(progress.line(0, member(0, { receivedBytes: 0, totalBytes: 40 * mib }), 5000), 'learner, receiving a snapshot: 0 B/40.0 MiB (0%), ETA ?');
  assert.equal(progress.line(1000, member(0, { receivedBytes: 4 * mib, totalBytes: 40 * mib }), 5000), 'learner, receiving a snapshot: 4.0 MiB/40.0 MiB (10%), 4.0 MiB/s, ETA 9s');
  assert.equal(progress.line(2000, member(4000), 5000), 'learner, catching up: applied=4000/5000, ETA ?');
  assert.equal(progress.line(3000, member(4500), 5100), 'learner, catching up: applied=4500/5100, 500 entries/s, ETA 2s');
  assert.equal(new JoinProgress().line(0, { ...member(0), report: null }, 10), 'learner, catching up: applied=0/10, ETA ?');
});

test('node drain names the allocations still on the node and counts the rest', () => {
  const alloc = (id: string, node: string, desired: 'run' | 'stop', status: string): object => ({ id, node, desired, status });
  const statuses = [
    { allocations: [alloc('web.0.aa', 'node-3', 'run', 'running'), alloc('web.1.bb', 'node-2', 'run', 'running'), alloc('web.0.cc', 'node-3', 'stop', 'running')] },
    { allocations: [alloc('db.0.dd', 'node-3', 'run', 'complete')] },
  ] as unknown as JobStatusJson[];
  const left = allocationsLeft(statuses, 'node-3', (a) => a.status === 'complete' || a.status === 'failed' || a.status === 'lost');
  assert.deepEqual(left, [
    { id: 'web.0.aa', stopping: false },
    { id: 'web.0.cc', stopping: true },
  ]);
  assert.equal(drainLine('node-3', left, null), 'node-3 draining: 2 allocations still to move (web.0.aa, web.0.cc stopping), ETA ?');
  const many = Array.from({ length: 6 }, (_, i) => ({ id: `j.${i}`, stopping: false }));
  assert.equal(drainLine('node-3', many, 40_000), 'node-3 draining: 6 allocations still to move (j.0, j.1, j.2, j.3, and 2 more), ETA 40s');
  assert.equal(drainLine('n', [{ id: 'j.0', stopping: false }], 0), 'n draining: 1 allocation still to move (j.0), ETA 0s');
});

function output(isTTY: boolean): { written: string[]; out: { isTTY: boolean; write: (text: string) => boolean } } {
  const written: string[] = [];
  return { written, out: { isTTY, write: (text) => written.push(text) > 0 } };
}

test('on a terminal one line is rewritten in place; finish and end move below it', () => {
  const { written, out } = output(true);
  const line = new ProgressLine(out, () => 0);
  line.update('applied=1/10');
  line.update('applied=1/10');
  line.update('applied=5/10');
  line.end();
  line.end();
  line.update('applied=9/10');
  line.finish('promoted to voter');
  assert.deepEqual(written, ['\rapplied=1/10\x1b[K', '\rapplied=5/10\x1b[K', '\n', '\rapplied=9/10\x1b[K', '\rpromoted to voter\x1b[K\n']);
});

test('elsewhere plain lines, at most one per interval, and the last one always', () => {
  const { written, out } = output(false);
  let now = 0;
  const line = new ProgressLine(out, () => now);
  line.update('applied=1/10');
  now = 500;
  line.update('applied=2/10');
  now = plainIntervalMs;
  line.update('applied=3/10');
  line.update('applied=3/10');
  line.end();
  line.finish('promoted to voter');
  assert.deepEqual(written, ['applied=1/10\n', 'applied=3/10\n', 'promoted to voter\n']);
});
