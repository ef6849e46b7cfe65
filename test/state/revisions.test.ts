/**
 * Revisions, versions and transactions, checked through committed entries as the node driver
 * applies them: the global revision starts at 1 and moves once per write; per-key
 * createRevision, modRevision and version across put, delete and recreate; no-op and
 * membership entries change nothing; compare-and-swap success and failure; compares on
 * missing keys; a multi-op transaction is one revision; malformed commands are typed failures.
 */
import assert from 'node:assert/strict';
import { encode } from '@msgpack/msgpack';
import { test } from 'node:test';
import type { KvCommand, PutResponse, TxnResponse } from '../../src/state/index.js';
import { b, Driver, failure, ok, s } from './helpers.js';

test('revision starts at 1 and each write bumps it once', () => {
  const d = new Driver();
  assert.equal(d.machine.revision, 1);
  assert.equal(ok(d.put('a', '1')).revision, 2);
  assert.equal(ok(d.put('b', '1')).revision, 3);
  // Deleting nothing writes nothing.
  assert.equal(ok(d.del('zzz')).revision, 3);
  assert.equal(d.machine.revision, 3);
});

test('no-op and conf entries do nothing', () => {
  const d = new Driver();
  const noop = d.machine.apply({ type: 'normal', index: 1, term: 1, data: new Uint8Array(0) });
  assert.deepEqual(noop, { ok: true, kind: 'noop', revision: 1 });
  const conf = d.machine.apply({ type: 'conf', index: 2, term: 1, change: { type: 'addLearner', nodeId: 'n2' } });
  assert.equal(conf.ok && conf.kind, 'noop');
  assert.equal(d.machine.revision, 1);
});

test('createRevision, modRevision and version across put, delete and recreate', () => {
  const d = new Driver();
  d.put('k', 'v1'); // rev 2
  d.put('k', 'v2'); // rev 3
  let kv = ok(d.machine.range(b('k'))).kvs[0];
  assert.deepEqual(kv && [kv.createRevision, kv.modRevision, kv.version, s(kv.value)], [2, 3, 2, 'v2']);
  const deleted = ok(d.apply({ op: 'deleteRange', key: b('k'), prevKv: true }));
  assert.equal(deleted.kind === 'deleteRange' && deleted.deleted, 1);
  assert.equal(deleted.revision, 4);
  assert.equal(d.get('k'), null);
  d.put('k', 'v3'); // rev 5
  kv = ok(d.machine.range(b('k'))).kvs[0];
  assert.deepEqual(kv && [kv.createRevision, kv.modRevision, kv.version], [5, 5, 1]);
});

test('put returns prevKv on request, and ignoreValue/ignoreLease keep the current ones', () => {
  const d = new Driver();
  d.put('k', 'old');
  const put = ok(d.apply({ op: 'put', key: b('k'), value: b('new'), prevKv: true })) as PutResponse;
  assert.equal(put.prevKv && s(put.prevKv.value), 'old');
  ok(d.apply({ op: 'leaseGrant', id: 7, ttlSeconds: 10 }));
  ok(d.apply({ op: 'put', key: b('k'), value: new Uint8Array(0), lease: 7, ignoreValue: true }));
  assert.equal(d.get('k'), 'new');
  ok(d.apply({ op: 'put', key: b('k'), value: b('newer'), ignoreLease: true }));
  assert.equal(ok(d.machine.range(b('k'))).kvs[0]?.lease, 7);
  assert.equal(failure(d.apply({ op: 'put', key: b('missing'), value: new Uint8Array(0), ignoreValue: true })), 'key_not_found');
  assert.equal(failure(d.apply({ op: 'put', key: b('k'), value: b('x'), ignoreValue: true })), 'value_provided');
  assert.equal(failure(d.apply({ op: 'put', key: b('k'), value: b('x'), lease: 7, ignoreLease: true })), 'lease_provided');
});

function cas(key: string, expectedModRevision: number, value: string): KvCommand {
  return {
    op: 'txn',
    compares: [{ target: 'modRevision', key: b(key), result: 'equal', value: expectedModRevision }],
    success: [{ op: 'put', key: b(key), value: b(value) }],
    failure: [{ op: 'range', key: b(key) }],
  };
}

test('compare-and-swap on modRevision succeeds once and then fails', () => {
  const d = new Driver();
  d.put('k', 'a'); // rev 2
  const first = ok(d.apply(cas('k', 2, 'b'))) as TxnResponse;
  assert.deepEqual([first.succeeded, first.revision], [true, 3]);
  const second = ok(d.apply(cas('k', 2, 'c'))) as TxnResponse;
  assert.deepEqual([second.succeeded, second.revision], [false, 3]);
  const read = second.responses[0];
  assert.ok(read?.kind === 'range');
  assert.equal(s(read.kvs[0]?.value ?? b('')), 'b');
  assert.equal(d.get('k'), 'b');
});

test('compares on a missing key: numbers are 0, a value compare fails', () => {
  const d = new Driver();
  const txn = (compare: Extract<KvCommand, { op: 'txn' }>['compares'][number]): boolean =>
    (ok(d.apply({ op: 'txn', compares: [compare], success: [], failure: [] })) as TxnResponse).succeeded;
  assert.equal(txn({ target: 'version', key: b('nope'), result: 'equal', value: 0 }), true);
  assert.equal(txn({ target: 'createRevision', key: b('nope'), result: 'equal', value: 0 }), true);
  assert.equal(txn({ target: 'modRevision', key: b('nope'), result: 'less', value: 1 }), true);
  assert.equal(txn({ target: 'lease', key: b('nope'), result: 'equal', value: 0 }), true);
  assert.equal(txn({ target: 'value', key: b('nope'), result: 'equal', value: b('') }), false);
  assert.equal(txn({ target: 'value', key: b('nope'), result: 'notEqual', value: b('x') }), false);
  d.put('k', 'abc');
  assert.equal(txn({ target: 'value', key: b('k'), result: 'greater', value: b('abb') }), true);
  assert.equal(txn({ target: 'value', key: b('k'), result: 'less', value: b('abb') }), false);
  assert.equal(txn({ target: 'version', key: b('k'), result: 'notEqual', value: 1 }), false);
});

test('a multi-op transaction is one revision, its ops see earlier writes, and it is atomic', () => {
  const d = new Driver();
  d.put('x', '0');
  const result = ok(
    d.apply({
      op: 'txn',
      compares: [],
      success: [
        { op: 'put', key: b('a'), value: b('1') },
        { op: 'put', key: b('b'), value: b('2') },
        { op: 'deleteRange', key: b('x') },
        { op: 'range', key: b('a'), rangeEnd: b('c') },
      ],
      failure: [],
    }),
  ) as TxnResponse;
  assert.equal(result.revision, 3);
  assert.deepEqual(result.responses.map((r) => r.revision), [3, 3, 3, 3]);
  const read = result.responses[3];
  assert.ok(read?.kind === 'range');
  assert.deepEqual(read.kvs.map((kv) => [s(kv.key), kv.modRevision]), [['a', 3], ['b', 3]]);
  // A failing op (unknown lease) rejects the whole transaction before anything changes.
  const bad = d.apply({
    op: 'txn',
    compares: [],
    success: [{ op: 'put', key: b('c'), value: b('1') }, { op: 'put', key: b('d'), value: b('1'), lease: 99 }],
    failure: [],
  });
  assert.equal(failure(bad), 'lease_not_found');
  assert.equal(d.get('c'), null);
  assert.equal(d.machine.revision, 3);
  const dup = d.apply({ op: 'txn', compares: [], success: [{ op: 'put', key: b('a'), value: b('1') }, { op: 'deleteRange', key: b('a'), rangeEnd: b('b') }], failure: [] });
  assert.equal(failure(dup), 'duplicate_key');
});

test('malformed and oversized commands are typed failures, not exceptions', () => {
  const d = new Driver();
  const apply = (data: Uint8Array) => d.machine.apply({ type: 'normal', index: 1, term: 1, data });
  assert.equal(failure(apply(b('not msgpack'))), 'bad_command');
  assert.equal(failure(apply(encode({ op: 'put', key: 'k', value: 'v' }))), 'bad_command', 'key and value must be binary');
  assert.equal(failure(apply(encode({ op: 'explode' }))), 'bad_command');
  assert.equal(failure(apply(encode({ op: 'txn', compares: [], success: [{ op: 'leaseGrant', id: 1, ttlSeconds: 1 }], failure: [] }))), 'bad_command');
  assert.equal(failure(apply(encode([1, 2]))), 'bad_command');
  assert.equal(failure(d.put('', 'v')), 'empty_key');
  assert.equal(failure(d.put('k'.repeat(5000), 'v')), 'key_too_large');
  assert.equal(failure(d.apply({ op: 'put', key: b('k'), value: new Uint8Array(1024 * 1024 + 1) })), 'value_too_large');
  assert.equal(d.machine.revision, 1);
});
