/**
 * Snapshots and determinism. A restored machine has the same reads, history, leases and
 * snapshot bytes as the original and behaves identically afterwards (same results, same
 * snapshots). Snapshot bytes are canonical: the same state reached by different insertion
 * orders encodes the same. Two machines applying the same entries give the same results.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvStateMachine, type KvCommand } from '../../src/state/index.js';
import { joinChunks } from '../../src/util/bytes.js';
import { b, Driver } from './helpers.js';

const all = [new Uint8Array([0]), new Uint8Array([0])] as const;

function workload(): KvCommand[] {
  const commands: KvCommand[] = [
    { op: 'leaseGrant', id: 9, ttlSeconds: 60 },
    { op: 'leaseGrant', id: 3, ttlSeconds: 5 },
  ];
  for (let i = 0; i < 30; i++) {
    const key = b(`key/${i % 7}`);
    if (i % 5 === 4) commands.push({ op: 'deleteRange', key });
    else commands.push({ op: 'put', key, value: b(`v${i}`), lease: i % 3 === 0 ? 9 : i % 3 === 1 ? 3 : 0 });
  }
  commands.push({ op: 'compact', revision: 10 });
  commands.push({ op: 'txn', compares: [{ target: 'version', key: b('key/1'), result: 'greater', value: 0 }], success: [{ op: 'put', key: b('t'), value: new Uint8Array([0, 255, 1]) }, { op: 'deleteRange', key: b('key/2') }], failure: [] });
  return commands;
}

function observe(machine: KvStateMachine): unknown {
  return {
    revision: machine.revision,
    compactRevision: machine.compactRevision,
    now: machine.range(...all),
    past: machine.range(...all, { revision: 12 }),
    events: machine.eventsSince(machine.compactRevision + 1, ...all),
    leases: machine.leases(),
  };
}

test('snapshot and restore give identical state, bytes and later behaviour', () => {
  const original = new Driver();
  for (const command of workload()) original.apply(command);
  const bytes = original.machine.snapshot();
  const restored = new Driver(new KvStateMachine());
  restored.machine.restore(bytes);
  assert.deepEqual(observe(restored.machine), observe(original.machine));
  assert.deepEqual(restored.machine.snapshot(), bytes);
  const later: KvCommand[] = [
    { op: 'leaseRevoke', id: 9 },
    { op: 'put', key: b('key/1'), value: b('after'), prevKv: true },
    { op: 'compact', revision: 20 },
    { op: 'deleteRange', key: b('key/'), rangeEnd: b('key0'), prevKv: true },
  ];
  for (const command of later) assert.deepEqual(restored.apply(command), original.apply(command));
  assert.deepEqual(observe(restored.machine), observe(original.machine));
  assert.deepEqual(restored.machine.snapshot(), original.machine.snapshot());
});

test('snapshot bytes do not depend on insertion order', () => {
  const one = new Driver();
  const two = new Driver();
  one.apply({ op: 'leaseGrant', id: 1, ttlSeconds: 5 });
  one.apply({ op: 'leaseGrant', id: 2, ttlSeconds: 5 });
  two.apply({ op: 'leaseGrant', id: 2, ttlSeconds: 5 });
  two.apply({ op: 'leaseGrant', id: 1, ttlSeconds: 5 });
  // The same final keys and revisions, reached through different orders and then compacted.
  one.apply({ op: 'txn', compares: [], success: [{ op: 'put', key: b('x'), value: b('1'), lease: 1 }, { op: 'put', key: b('y'), value: b('1'), lease: 2 }], failure: [] });
  two.apply({ op: 'txn', compares: [], success: [{ op: 'put', key: b('y'), value: b('1'), lease: 2 }, { op: 'put', key: b('x'), value: b('1'), lease: 1 }], failure: [] });
  one.apply({ op: 'compact', revision: 2 });
  two.apply({ op: 'compact', revision: 2 });
  assert.deepEqual(one.machine.snapshot(), two.machine.snapshot());
  // Restoring into a machine that had other state replaces it entirely.
  const other = new Driver();
  other.put('junk', 'junk');
  other.machine.restore(one.machine.snapshot());
  assert.deepEqual(other.machine.snapshot(), one.machine.snapshot());
  assert.equal(other.get('junk'), null);
});

test('two machines applying the same entries agree on every result and snapshot', () => {
  const left = new Driver();
  const right = new Driver();
  for (const command of workload()) {
    assert.deepEqual(left.apply(command), right.apply(command));
    assert.deepEqual(left.machine.snapshot(), right.machine.snapshot());
  }
});

test('a background snapshot encodes the state of the moment it was asked for, whatever is applied meanwhile', async () => {
  const driver = new Driver();
  // Enough keys for the encoding to take several slices, so writes land between them.
  for (let i = 0; i < 100_000; i++) driver.apply({ op: 'put', key: b(`bulk/${String(i).padStart(5, '0')}`), value: new Uint8Array(64).fill(i % 251) });
  for (const command of workload()) driver.apply(command);
  const expected = driver.machine.snapshot();
  const encoding = joinChunks(driver.machine.snapshotInBackground());
  // Overwrites (pushes onto shared histories), new keys, deletes, a lease revoke and a
  // compaction (which rebuilds histories) all happen while the encoding runs.
  const later: KvCommand[] = [
    { op: 'put', key: b('bulk/00001'), value: b('changed') },
    { op: 'put', key: b('new'), value: b('n') },
    { op: 'deleteRange', key: b('bulk/1'), rangeEnd: b('bulk/2') },
    { op: 'leaseRevoke', id: 9 },
    { op: 'compact', revision: driver.machine.revision },
  ];
  let pending = true;
  void encoding.finally(() => (pending = false));
  for (const command of later) {
    await new Promise((resolve) => setImmediate(resolve));
    driver.apply(command);
  }
  assert.ok(pending, 'the writes landed while the encoding was still running');
  assert.deepEqual(await encoding, expected);
  assert.notDeepEqual(driver.machine.snapshot(), expected);
  const restored = new Driver(new KvStateMachine());
  restored.machine.restore(await encoding);
  assert.deepEqual(restored.machine.snapshot(), expected);
});

test("a restored machine gives a transaction's events in the order it made them, not in key order", () => {
  const original = new Driver();
  original.apply({ op: 'put', key: b('t'), value: b('1') });
  original.apply({ op: 'put', key: b('a'), value: b('1') });
  original.apply({ op: 'txn', compares: [], success: [{ op: 'put', key: b('t'), value: b('2') }, { op: 'put', key: b('m'), value: b('2') }, { op: 'deleteRange', key: b('a') }], failure: [] });
  original.apply({ op: 'put', key: b('a'), value: b('3') });
  const restored = new KvStateMachine();
  restored.restore(original.machine.snapshot());
  const events = (machine: KvStateMachine): string[] => {
    const result = machine.eventsSince(1, ...all);
    assert.ok(result.ok);
    return result.events.map((e) => `${e.type} ${Buffer.from(e.kv.key).toString()}@${e.kv.modRevision}`);
  };
  assert.deepEqual(events(original.machine), ['put t@2', 'put a@3', 'put t@4', 'put m@4', 'delete a@4', 'put a@5']);
  assert.deepEqual(events(restored), events(original.machine));
});
