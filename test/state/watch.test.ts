/**
 * Watch support: eventsSince returns history in revision order filtered by range, with
 * prevKv and delete events shaped as in etcd; onEvents delivers each write's events
 * synchronously; watch(from) = history then live events, every event exactly once and in
 * order, including a transaction with several events; compaction makes old starts 'compacted';
 * disposing stops delivery; a restore that jumps ahead delivers the skipped events (or ends
 * the watch when they are compacted).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prefixEnd, type KvEvent } from '../../src/state/index.js';
import { b, Driver, failure, ok, s } from './helpers.js';

const describe = (e: KvEvent): string => `${e.type} ${s(e.kv.key)}=${s(e.kv.value)}@${e.kv.modRevision}${e.prevKv ? ` prev=${s(e.prevKv.value)}` : ''}`;
const all = [new Uint8Array([0]), new Uint8Array([0])] as const;

test('eventsSince returns history in order with prevKv, filtered by range', () => {
  const d = new Driver();
  d.put('a', '1'); // 2
  d.put('b', '1'); // 3
  d.put('a', '2'); // 4
  d.del('a'); // 5
  const since = ok(d.machine.eventsSince(3, ...all));
  assert.deepEqual(since.events.map(describe), ['put b=1@3', 'put a=2@4 prev=1', 'delete a=@5 prev=2']);
  assert.deepEqual(ok(d.machine.eventsSince(1, b('a'))).events.map(describe), ['put a=1@2', 'put a=2@4 prev=1', 'delete a=@5 prev=2']);
  assert.deepEqual(ok(d.machine.eventsSince(6, ...all)).events, []);
  const deleted = since.events[2];
  assert.deepEqual(deleted && [deleted.kv.createRevision, deleted.kv.version, deleted.kv.lease], [0, 0, 0]);
  ok(d.apply({ op: 'compact', revision: 3 }));
  assert.equal(failure(d.machine.eventsSince(3, ...all)), 'compacted');
  assert.deepEqual(ok(d.machine.eventsSince(4, ...all)).events.map(describe), ['put a=2@4 prev=1', 'delete a=@5 prev=2']);
});

test('watch from a past revision sees every event exactly once, in order', () => {
  const d = new Driver();
  const expected: string[] = [];
  const record = (result: ReturnType<Driver['apply']>): void => assert.ok(result.ok);
  record(d.put('w/a', '1')); // 2
  record(d.put('other', 'x')); // 3
  record(d.put('w/b', '1')); // 4
  expected.push('put w/a=1@2', 'put w/b=1@4');
  const batches: string[][] = [];
  const watch = d.machine.watch(2, b('w/'), prefixEnd(b('w/')), (events) => batches.push(events.map(describe)), () => assert.fail('not compacted'));
  assert.ok(!('ok' in watch));
  record(d.put('w/a', '2')); // 5
  record(
    d.apply({
      op: 'txn',
      compares: [],
      success: [
        { op: 'put', key: b('w/c'), value: b('1') },
        { op: 'put', key: b('other2'), value: b('1') },
        { op: 'deleteRange', key: b('w/a') },
      ],
      failure: [],
    }),
  ); // 6
  record(d.put('other', 'y')); // 7
  expected.push('put w/a=2@5 prev=1', 'put w/c=1@6', 'delete w/a=@6 prev=2');
  assert.deepEqual(batches.flat(), expected);
  assert.deepEqual(batches.at(-1), ['put w/c=1@6', 'delete w/a=@6 prev=2'], 'a txn is one batch');
  watch.dispose();
  d.put('w/z', '1');
  assert.equal(batches.flat().length, expected.length);
});

test('onEvents gets each write once; reading history then subscribing misses nothing', () => {
  const d = new Driver();
  d.put('a', '1');
  const history = ok(d.machine.eventsSince(1, ...all)).events.map(describe);
  const live: string[] = [];
  const subscription = d.machine.onEvents((events) => live.push(...events.map(describe)));
  d.put('a', '2');
  d.del('nothing'); // writes nothing, so no callback
  d.put('b', '1');
  assert.deepEqual([...history, ...live], ok(d.machine.eventsSince(1, ...all)).events.map(describe));
  subscription.dispose();
  d.put('c', '1');
  assert.equal(live.length, 2);
  assert.equal(failure(d.machine.watch(-1, b('a'), undefined, () => undefined, () => undefined)), 'invalid_argument');
});

test("a watcher on a node that installs a leader's snapshot gets the events the snapshot jumped over", () => {
  // The follower's watcher waits from revision 3; the leader has moved on to revision 6 when
  // its snapshot replaces the follower's state. The chaos suite found watchers missing these.
  const follower = new Driver();
  follower.put('w/a', '1'); // 2
  const seen: string[] = [];
  const watch = follower.machine.watch(3, b('w/'), prefixEnd(b('w/')), (events) => seen.push(...events.map(describe)), () => assert.fail('not compacted'));
  assert.ok(!('ok' in watch));
  const leader = new Driver();
  leader.put('w/a', '1'); // 2
  leader.put('w/b', '1'); // 3
  leader.put('other', '1'); // 4
  leader.put('w/a', '2'); // 5
  leader.del('w/b'); // 6
  follower.machine.restore(leader.machine.snapshot());
  assert.deepEqual(seen, ['put w/b=1@3', 'put w/a=2@5 prev=1', 'delete w/b=@6 prev=1']);
  follower.put('w/c', '1'); // 7
  assert.deepEqual(seen.slice(3), ['put w/c=1@7']);
});

test('a watch from a revision the node has not reached yet gets nothing older than it', () => {
  // A client resuming on a lagging node asks from the revision after the last one it saw.
  const d = new Driver();
  d.put('k', '1'); // 2
  const seen: string[] = [];
  d.machine.watch(5, b('k'), undefined, (events) => seen.push(...events.map(describe)), () => assert.fail('not compacted'));
  d.put('k', '2'); // 3
  d.put('k', '3'); // 4
  d.put('k', '4'); // 5
  assert.deepEqual(seen, ['put k=4@5 prev=3'], 'the chaos suite saw revisions 3 and 4 delivered to a watch from 5');
});

test('a watcher whose skipped events were compacted on the leader is told so and ends', () => {
  const follower = new Driver();
  const compactedAt: number[] = [];
  const seen: KvEvent[] = [];
  follower.machine.watch(0, b('k'), undefined, (events) => seen.push(...events), (revision) => compactedAt.push(revision));
  // A watch that starts above the compaction point loses nothing it asked for: it stays.
  const later: string[] = [];
  follower.machine.watch(4, b('k'), undefined, (events) => later.push(...events.map(describe)), () => assert.fail('its events were not compacted'));
  const leader = new Driver();
  leader.put('k', '1'); // 2
  leader.put('k', '2'); // 3
  leader.put('k', '3'); // 4
  ok(leader.apply({ op: 'compact', revision: 3 }));
  follower.machine.restore(leader.machine.snapshot());
  assert.deepEqual(compactedAt, [3]);
  assert.deepEqual(later, ['put k=3@4 prev=2']);
  follower.put('k', '4');
  assert.deepEqual(seen, [], 'an ended watch gets nothing more');
  assert.deepEqual(later, ['put k=3@4 prev=2', 'put k=4@5 prev=3']);
});
