/**
 * The etcd KV service against a real single node, through a grpc-js client: Range options
 * (prefix, limit, revision, sort, filters, keys/count only), Put options, DeleteRange, Txn with
 * every compare target and nested ops, Compact, response headers, and the errors etcd clients
 * look for by message.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { status, type Client } from '@grpc/grpc-js';
import { clusterIdOf, memberIdOf } from '../../src/grpc/index.js';
import { call, failure, GrpcNode } from './grpc-node.js';

let node: GrpcNode;
let kv: Client;
const b = (text: string): Buffer => Buffer.from(text);
const keys = (response: { kvs: { key: Buffer }[] }): string[] => response.kvs.map((kv) => kv.key.toString());

before(async () => {
  node = await GrpcNode.start();
  kv = node.client('KV');
});

after(async () => {
  kv.close();
  await node.stop();
});

interface Header {
  cluster_id: string;
  member_id: string;
  revision: string;
  raft_term: string;
}
interface RangeAnswer {
  header: Header;
  kvs: { key: Buffer; value: Buffer; version: string; mod_revision: string; create_revision: string; lease: string }[];
  more: boolean;
  count: string;
}

test('put and range carry etcd headers; range options work', async () => {
  const put = await call<{ header: Header }>(kv, 'Put', { key: b('a/1'), value: b('one') });
  assert.equal(put.header.cluster_id, clusterIdOf(node.single.node.clusterId));
  assert.equal(put.header.member_id, memberIdOf(node.single.node.id));
  assert.ok(Number(put.header.raft_term) >= 1);
  const first = Number(put.header.revision);
  await call(kv, 'Put', { key: b('a/2'), value: b('two') });
  await call(kv, 'Put', { key: b('a/3'), value: b('three') });
  const prefix = { key: b('a/'), range_end: b('a0') };
  const all = await call<RangeAnswer>(kv, 'Range', prefix);
  assert.deepEqual(keys(all), ['a/1', 'a/2', 'a/3']);
  assert.equal(all.count, '3');
  const limited = await call<RangeAnswer>(kv, 'Range', { ...prefix, limit: 2 });
  assert.deepEqual([keys(limited), limited.more, limited.count], [['a/1', 'a/2'], true, '3']);
  const old = await call<RangeAnswer>(kv, 'Range', { ...prefix, revision: first });
  assert.deepEqual(keys(old), ['a/1']);
  const byValue = await call<RangeAnswer>(kv, 'Range', { ...prefix, sort_order: 'DESCEND', sort_target: 'VALUE', limit: 2 });
  assert.deepEqual(keys(byValue), ['a/2', 'a/3']);
  const filtered = await call<RangeAnswer>(kv, 'Range', { ...prefix, min_mod_revision: first + 1 });
  assert.deepEqual(keys(filtered), ['a/2', 'a/3']);
  const everything = await call<RangeAnswer>(kv, 'Range', { key: b('a/2'), range_end: Buffer.from([0]) });
  assert.deepEqual(keys(everything), ['a/2', 'a/3']);
  const keysOnly = await call<RangeAnswer>(kv, 'Range', { ...prefix, keys_only: true, serializable: true });
  assert.equal(keysOnly.kvs[0]?.value.byteLength, 0);
  const countOnly = await call<RangeAnswer>(kv, 'Range', { ...prefix, count_only: true });
  assert.deepEqual([countOnly.kvs.length, countOnly.count], [0, '3']);
});

test('put returns prev_kv and honours ignore_value; delete returns prev_kvs', async () => {
  await call(kv, 'Put', { key: b('p'), value: b('v1') });
  const second = await call<{ prev_kv: { value: Buffer } | null }>(kv, 'Put', { key: b('p'), value: b('v2'), prev_kv: true });
  assert.equal(second.prev_kv?.value.toString(), 'v1');
  await call(kv, 'Put', { key: b('p'), ignore_value: true });
  const read = await call<RangeAnswer>(kv, 'Range', { key: b('p') });
  assert.deepEqual([read.kvs[0]?.value.toString(), read.kvs[0]?.version], ['v2', '3']);
  const missing = await failure(call(kv, 'Put', { key: b('nope'), ignore_value: true }));
  assert.deepEqual([missing.code, missing.details], [status.INVALID_ARGUMENT, 'etcdserver: key not found']);
  const deleted = await call<{ deleted: string; prev_kvs: { key: Buffer }[] }>(kv, 'DeleteRange', { key: b('p'), prev_kv: true });
  assert.deepEqual([deleted.deleted, keys({ kvs: deleted.prev_kvs })], ['1', ['p']]);
});

test('txn: compares on every target, both branches, nested txn', async () => {
  const put = await call<{ header: Header }>(kv, 'Put', { key: b('t'), value: b('x') });
  const modRevision = put.header.revision;
  const compares = [
    { key: b('t'), target: 'VALUE', result: 'EQUAL', value: b('x') },
    { key: b('t'), target: 'VERSION', result: 'GREATER', version: 0 },
    { key: b('t'), target: 'MOD', result: 'EQUAL', mod_revision: modRevision },
    { key: b('t'), target: 'CREATE', result: 'NOT_EQUAL', create_revision: 0 },
    { key: b('t'), target: 'LEASE', result: 'EQUAL', lease: 0 },
    { key: b('t'), range_end: b('u'), target: 'VERSION', result: 'LESS', version: 5 },
  ];
  const nested = { compare: [{ key: b('t'), target: 'VALUE', result: 'EQUAL', value: b('other') }], success: [], failure: [{ request_put: { key: b('t/nested'), value: b('n') } }] };
  const answer = await call<{ succeeded: boolean; responses: Record<string, unknown>[] }>(kv, 'Txn', {
    compare: compares,
    success: [{ request_put: { key: b('t'), value: b('y'), prev_kv: true } }, { request_range: { key: b('t') } }, { request_txn: nested }],
    failure: [],
  });
  assert.equal(answer.succeeded, true);
  assert.deepEqual(answer.responses.map((r) => Object.keys(r).find((k) => r[k] !== null && k.startsWith('response_'))), ['response_put', 'response_range', 'response_txn']);
  const inner = answer.responses[2]?.response_txn as { succeeded: boolean };
  assert.equal(inner.succeeded, false);
  const read = await call<RangeAnswer>(kv, 'Range', { key: b('t'), range_end: b('u') });
  assert.deepEqual(keys(read), ['t', 't/nested']);
  const failed = await call<{ succeeded: boolean }>(kv, 'Txn', { compare: [{ key: b('t'), target: 'VALUE', result: 'EQUAL', value: b('x') }], success: [], failure: [{ request_range: { key: b('t') } }] });
  assert.equal(failed.succeeded, false);
  const duplicate = await failure(call(kv, 'Txn', { success: [{ request_put: { key: b('d'), value: b('1') } }, { request_put: { key: b('d'), value: b('2') } }] }));
  assert.deepEqual([duplicate.code, duplicate.details], [status.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request']);
  const tooMany = await failure(call(kv, 'Txn', { success: Array.from({ length: 129 }, (_, i) => ({ request_range: { key: b(`k${i}`) } })) }));
  assert.equal(tooMany.details, 'etcdserver: too many operations in txn request');
});

test('compaction and revision errors use etcd messages and codes', async () => {
  const put = await call<{ header: Header }>(kv, 'Put', { key: b('c'), value: b('1') });
  await call(kv, 'Put', { key: b('c'), value: b('2') });
  const revision = Number(put.header.revision);
  await call(kv, 'Compact', { revision, physical: true });
  const compacted = await failure(call(kv, 'Range', { key: b('c'), revision: revision - 1 }));
  assert.deepEqual([compacted.code, compacted.details], [status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted']);
  const future = await failure(call(kv, 'Range', { key: b('c'), revision: revision + 1000 }));
  assert.deepEqual([future.code, future.details], [status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision']);
  const empty = await failure(call(kv, 'Put', { key: b(''), value: b('v') }));
  assert.deepEqual([empty.code, empty.details], [status.INVALID_ARGUMENT, 'etcdserver: key is not provided']);
});
