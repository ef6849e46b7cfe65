/**
 * Nested transactions (etcd's request_txn ops), applied through the codec as log entries:
 * inner compares are evaluated against the state before the outer txn runs, the whole tree
 * writes one revision and every response in it carries that revision; etcd's duplicate-key
 * rules across nesting levels; and the nesting depth limit, in validation and in the codec.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvStore, msgpackKvCodec, txnDepthMax, type TxnRequest, type TxnResponse } from '../../src/state/index.js';
import { b, Driver, failure, ok } from './helpers.js';

const put = (key: string, value: string) => ({ op: 'put', key: b(key), value: b(value) }) as const;
const txn = (compares: TxnRequest['compares'], success: TxnRequest['success'], failureOps: TxnRequest['failure'] = []): TxnRequest => ({ op: 'txn', compares, success, failure: failureOps });
const valueIs = (key: string, value: string) => ({ target: 'value', key: b(key), result: 'equal', value: b(value) }) as const;

test('inner compares see the state before the outer txn; one revision for the whole tree', () => {
  const d = new Driver();
  d.put('a', '1');
  // The outer put changes a to 2, but the inner compare still sees 1 (etcd evaluates the path first).
  const result = ok(d.apply(txn([], [put('a', '2'), txn([valueIs('a', '1')], [put('b', 'inner')], [put('c', 'else')])]))) as TxnResponse;
  assert.equal(d.get('b'), 'inner');
  assert.equal(d.get('c'), null);
  const inner = result.responses[1] as TxnResponse;
  assert.deepEqual([inner.kind, inner.succeeded, inner.revision, inner.responses[0]?.revision], ['txn', true, result.revision, result.revision]);
});

test('duplicate keys across nesting levels are refused as in etcd; the two inner branches may share a key', () => {
  const d = new Driver();
  assert.equal(failure(d.apply(txn([], [put('k', '1'), txn([], [put('k', '2')])]))), 'duplicate_key');
  assert.equal(failure(d.apply(txn([], [{ op: 'deleteRange', key: b('k') }, txn([], [put('k', '2')])]))), 'duplicate_key');
  ok(d.apply(txn([], [txn([valueIs('x', 'y')], [put('k', 'then')], [put('k', 'else')])])));
  assert.equal(d.get('k'), 'else');
});

test('nesting deeper than txnDepthMax is refused', () => {
  let request = txn([], [put('deep', 'v')]);
  for (let i = 0; i < txnDepthMax; i++) request = txn([], [request]);
  assert.equal(failure(new KvStore().txn(request)), 'too_many_ops');
  assert.throws(() => msgpackKvCodec.decode(msgpackKvCodec.encode(request)), /nest at most/);
});
