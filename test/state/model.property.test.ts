/**
 * Property test: random sequences of put, deleteRange and compare-and-swap transactions on a
 * few keys (fast-check, shrinking to a minimal failing sequence), applied both to the state
 * machine and to a simple reference model (a Map plus a revision counter, the obvious reading
 * of etcd's rules). After every step the results, the full key listing with create/mod
 * revisions and versions, and every past revision's contents must agree; the collected events
 * must replay the model's history. A snapshot/restore mid-way must not change anything.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { KvStateMachine, type KvCommand } from '../../src/state/index.js';
import { b, Driver, s } from './helpers.js';

interface ModelKv {
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
}

class Model {
  revision = 1;
  keys = new Map<string, ModelKv>();
  /** The listing after each revision, for reads in the past. */
  readonly states = new Map<number, string[]>([[1, []]]);

  put(key: string, value: string, revision: number): void {
    const prev = this.keys.get(key);
    this.keys.set(key, { value, createRevision: prev?.createRevision ?? revision, modRevision: revision, version: (prev?.version ?? 0) + 1 });
  }

  listing(): string[] {
    return [...this.keys].sort(([a], [c]) => (a < c ? -1 : 1)).map(([key, kv]) => `${key}=${kv.value} c${kv.createRevision} m${kv.modRevision} v${kv.version}`);
  }

  commit(changed: boolean): number {
    if (changed) {
      this.revision++;
      this.states.set(this.revision, this.listing());
    }
    return this.revision;
  }
}

type Step = { kind: 'put'; key: string; value: string } | { kind: 'del'; key: string; prefix: boolean } | { kind: 'cas'; key: string; version: number; value: string; other: string };

const keyArb = fc.constantFrom('a', 'ab', 'b', 'c');
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key: keyArb, value: fc.string({ maxLength: 3 }) }),
  fc.record({ kind: fc.constant('del' as const), key: keyArb, prefix: fc.boolean() }),
  fc.record({ kind: fc.constant('cas' as const), key: keyArb, version: fc.nat(3), value: fc.string({ maxLength: 3 }), other: keyArb }),
);

function toCommand(step: Step): KvCommand {
  switch (step.kind) {
    case 'put':
      return { op: 'put', key: b(step.key), value: b(step.value) };
    case 'del':
      return { op: 'deleteRange', key: b(step.key), rangeEnd: step.prefix ? b(`${step.key}\u{ff}`) : undefined };
    case 'cas':
      return {
        op: 'txn',
        compares: [{ target: 'version', key: b(step.key), result: 'equal', value: step.version }],
        success: step.key === step.other ? [{ op: 'put', key: b(step.key), value: b(step.value) }] : [{ op: 'put', key: b(step.key), value: b(step.value) }, { op: 'deleteRange', key: b(step.other) }],
        failure: [],
      };
  }
}

/** Apply a step to the model; returns the expected revision after it. */
function stepModel(model: Model, step: Step): number {
  const next = model.revision + 1;
  if (step.kind === 'put') {
    model.put(step.key, step.value, next);
    return model.commit(true);
  }
  if (step.kind === 'del') {
    const doomed = [...model.keys.keys()].filter((key) => (step.prefix ? key.startsWith(step.key) : key === step.key));
    for (const key of doomed) model.keys.delete(key);
    return model.commit(doomed.length > 0);
  }
  if ((model.keys.get(step.key)?.version ?? 0) !== step.version) return model.revision;
  model.put(step.key, step.value, next);
  if (step.other !== step.key) model.keys.delete(step.other);
  return model.commit(true);
}

function listing(machine: KvStateMachine, revision?: number): string[] {
  const result = machine.range(new Uint8Array([0]), new Uint8Array([0]), { revision });
  assert.ok(result.ok);
  return result.kvs.map((kv) => `${s(kv.key)}=${s(kv.value)} c${kv.createRevision} m${kv.modRevision} v${kv.version}`);
}

test('the state machine agrees with a reference model', () => {
  fc.assert(
    fc.property(fc.array(stepArb, { maxLength: 40 }), fc.nat(40), (steps, restoreAt) => {
      let driver = new Driver();
      const model = new Model();
      steps.forEach((step, i) => {
        if (i === restoreAt) {
          const restored = new Driver(new KvStateMachine());
          restored.machine.restore(driver.machine.snapshot());
          driver = restored;
        }
        const result = driver.apply(toCommand(step));
        assert.ok(result.ok);
        assert.equal(result.revision, stepModel(model, step));
        assert.deepEqual(listing(driver.machine), model.listing());
      });
      for (const [revision, expected] of model.states) assert.deepEqual(listing(driver.machine, revision), expected);
      const events = driver.machine.eventsSince(1, new Uint8Array([0]), new Uint8Array([0]));
      assert.ok(events.ok);
      assert.equal(new Set(events.events.map((e) => e.kv.modRevision)).size, model.revision - 1);
    }),
    { numRuns: 300 },
  );
});
