/**
 * Reads: prefixEnd and its 0xff edge cases; range by single key, by prefix and to the end of
 * the keyspace; limit, count, more, keysOnly and countOnly; reads at past revisions, including
 * a key deleted and recreated since; compaction keeps the state at the compaction revision and
 * rejects older reads with 'compacted'; future revisions and oversized results are typed errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prefixEnd, rangeResultsMax, type RangeResponse } from '../../src/state/index.js';
import { b, Driver, failure, ok, s } from './helpers.js';

const keys = (response: RangeResponse): string[] => response.kvs.map((kv) => s(kv.key));

test('prefixEnd increments the last byte below 0xff and handles 0xff edges', () => {
  assert.deepEqual(prefixEnd(b('abc')), b('abd'));
  assert.deepEqual(prefixEnd(new Uint8Array([0x61, 0xff])), new Uint8Array([0x62]));
  assert.deepEqual(prefixEnd(new Uint8Array([0x61, 0xff, 0xff])), new Uint8Array([0x62]));
  assert.deepEqual(prefixEnd(new Uint8Array([0xff])), new Uint8Array([0]));
  assert.deepEqual(prefixEnd(new Uint8Array([0xff, 0xff])), new Uint8Array([0]));
  assert.deepEqual(prefixEnd(new Uint8Array([0x01, 0xfe])), new Uint8Array([0x01, 0xff]));
});

test('range by key, prefix and open end, in bytewise order', () => {
  const d = new Driver();
  for (const key of ['a', 'ab', 'abc', 'abd', 'b', 'foo/1', 'foo/2', 'foo0']) d.put(key, key);
  d.apply({ op: 'put', key: new Uint8Array([0x61, 0xff]), value: b('x') });
  d.apply({ op: 'put', key: new Uint8Array([0xff, 0x01]), value: b('y') });
  assert.deepEqual(keys(ok(d.machine.range(b('ab')))), ['ab']);
  assert.deepEqual(keys(ok(d.machine.range(b('foo/'), prefixEnd(b('foo/'))))), ['foo/1', 'foo/2']);
  const aPrefix = ok(d.machine.range(b('a'), prefixEnd(b('a'))));
  assert.equal(aPrefix.count, 5); // a, ab, abc, abd, a\xff
  assert.deepEqual(aPrefix.kvs[4]?.key, new Uint8Array([0x61, 0xff]));
  const high = new Uint8Array([0xff]);
  assert.deepEqual(ok(d.machine.range(high, prefixEnd(high))).kvs.map((kv) => kv.key), [new Uint8Array([0xff, 0x01])]);
  assert.equal(ok(d.machine.range(b('foo'), new Uint8Array([0]))).count, 4); // foo/1 foo/2 foo0 \xff\x01
  assert.equal(ok(d.machine.range(new Uint8Array([0]), new Uint8Array([0]))).count, 10);
  assert.equal(ok(d.machine.range(b('b'), b('a'))).count, 0);
});

test('limit, count, more, keysOnly and countOnly', () => {
  const d = new Driver();
  for (const key of ['k1', 'k2', 'k3', 'k4']) d.put(key, `value-${key}`);
  const all = { rangeEnd: prefixEnd(b('k')) };
  const limited = ok(d.machine.range(b('k'), all.rangeEnd, { limit: 2 }));
  assert.deepEqual([keys(limited), limited.count, limited.more], [['k1', 'k2'], 4, true]);
  const exact = ok(d.machine.range(b('k'), all.rangeEnd, { limit: 4 }));
  assert.equal(exact.more, false);
  const keysOnly = ok(d.machine.range(b('k'), all.rangeEnd, { keysOnly: true }));
  assert.deepEqual(keysOnly.kvs.map((kv) => kv.value.byteLength), [0, 0, 0, 0]);
  assert.equal(keysOnly.kvs[3]?.version, 1);
  const countOnly = ok(d.machine.range(b('k'), all.rangeEnd, { countOnly: true }));
  assert.deepEqual([countOnly.kvs.length, countOnly.count, countOnly.more], [0, 4, false]);
  assert.equal(countOnly.revision, 5);
  assert.equal(failure(d.machine.range(b('k'), undefined, { limit: -1 })), 'invalid_argument');
  assert.equal(failure(d.machine.range(new Uint8Array(0))), 'empty_key');
});

test('results beyond rangeResultsMax are refused unless paged or counted', () => {
  const d = new Driver();
  const success = Array.from({ length: 100 }, (_, i) => ({ op: 'put' as const, key: b(`p${String(i).padStart(3, '0')}`), value: b('') }));
  for (let i = 0; i < Math.ceil((rangeResultsMax + 1) / 100); i++) {
    ok(d.apply({ op: 'txn', compares: [], success: success.map((op) => ({ ...op, key: b(`${i}/${s(op.key)}`) })), failure: [] }));
  }
  const everything = new Uint8Array([0]);
  assert.equal(failure(d.machine.range(everything, everything)), 'too_many_results');
  assert.equal(ok(d.machine.range(everything, everything, { limit: 10 })).kvs.length, 10);
  assert.ok(ok(d.machine.range(everything, everything, { countOnly: true })).count > rangeResultsMax);
});

test('reads at past revisions see the state of that revision', () => {
  const d = new Driver();
  d.put('k', 'v1'); // 2
  d.put('other', 'o'); // 3
  d.put('k', 'v2'); // 4
  d.del('k'); // 5
  d.put('k', 'v3'); // 6
  const at = (revision: number): string[] =>
    ok(d.machine.range(b('k'), undefined, { revision })).kvs.map((kv) => `${s(kv.value)}@${kv.modRevision}v${kv.version}`);
  assert.deepEqual([at(1), at(2), at(3), at(4), at(5), at(6)], [[], ['v1@2v1'], ['v1@2v1'], ['v2@4v2'], [], ['v3@6v1']]);
  assert.equal(ok(d.machine.range(b('k'), undefined, { revision: 3 })).revision, 6);
  assert.equal(failure(d.machine.range(b('k'), undefined, { revision: 7 })), 'future_revision');
});

test('compaction keeps the state at its revision and rejects older reads', () => {
  const d = new Driver();
  d.put('a', '1'); // 2
  d.put('a', '2'); // 3
  d.put('b', '1'); // 4
  d.del('b'); // 5
  d.put('c', '1'); // 6
  assert.deepEqual(ok(d.apply({ op: 'compact', revision: 5 })), { ok: true, kind: 'compact', revision: 6 });
  assert.equal(d.machine.compactRevision, 5);
  assert.equal(failure(d.machine.range(b('a'), undefined, { revision: 4 })), 'compacted');
  const atCompaction = ok(d.machine.range(new Uint8Array([0]), new Uint8Array([0]), { revision: 5 }));
  assert.deepEqual(atCompaction.kvs.map((kv) => `${s(kv.key)}=${s(kv.value)}@${kv.modRevision}`), ['a=2@3']);
  assert.deepEqual(keys(ok(d.machine.range(new Uint8Array([0]), new Uint8Array([0])))), ['a', 'c']);
  assert.equal(failure(d.apply({ op: 'compact', revision: 5 })), 'compacted');
  assert.equal(failure(d.apply({ op: 'compact', revision: 7 })), 'future_revision');
  // History keeps growing after a compaction.
  d.put('a', '3'); // 7
  assert.equal(ok(d.machine.range(b('a'), undefined, { revision: 6 })).kvs[0]?.version, 2);
  assert.equal(ok(d.machine.range(b('a'))).kvs[0]?.version, 3);
});
