/**
 * Leases: grant (with proposer-chosen ids, duplicates refused), attaching keys by put,
 * detaching by re-put or delete, revoke deleting every attached key in one revision, put with
 * an unknown lease failing, and the lease listing with TTLs and keys. Expiry itself is the
 * leader's job and is not modelled here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KvEvent } from '../../src/state/index.js';
import { b, Driver, failure, ok, s } from './helpers.js';

test('grant validates ids and TTLs and refuses duplicates', () => {
  const d = new Driver();
  assert.deepEqual(ok(d.apply({ op: 'leaseGrant', id: 5, ttlSeconds: 30 })), { ok: true, kind: 'leaseGrant', revision: 1, id: 5, ttlSeconds: 30 });
  assert.equal(failure(d.apply({ op: 'leaseGrant', id: 5, ttlSeconds: 30 })), 'lease_exists');
  assert.equal(failure(d.apply({ op: 'leaseGrant', id: 0, ttlSeconds: 30 })), 'invalid_lease_id');
  assert.equal(failure(d.apply({ op: 'leaseGrant', id: 6, ttlSeconds: 0 })), 'invalid_ttl');
  assert.equal(failure(d.apply({ op: 'leaseRevoke', id: 6 })), 'lease_not_found');
  assert.equal(d.machine.revision, 1, 'lease grants do not create revisions');
});

test('put with an unknown lease fails and changes nothing', () => {
  const d = new Driver();
  assert.equal(failure(d.put('k', 'v', 42)), 'lease_not_found');
  assert.equal(d.get('k'), null);
  assert.equal(d.machine.revision, 1);
});

test('revoke deletes every attached key in one revision', () => {
  const d = new Driver();
  ok(d.apply({ op: 'leaseGrant', id: 1, ttlSeconds: 10 }));
  ok(d.apply({ op: 'leaseGrant', id: 2, ttlSeconds: 20 }));
  d.put('a', '1', 1); // 2
  d.put('b', '1', 1); // 3
  d.put('c', '1', 1); // 4
  d.put('c', '2', 2); // 5: moves c to lease 2
  d.put('d', '1'); // 6: no lease
  d.put('e', '1', 1); // 7
  d.del('e'); // 8: detaches e
  assert.deepEqual(
    d.machine.leases().map((lease) => [lease.id, lease.ttlSeconds, lease.keys.map(s)]),
    [[1, 10, ['a', 'b']], [2, 20, ['c']]],
  );
  const seen: KvEvent[][] = [];
  d.machine.onEvents((events) => seen.push([...events]));
  const revoked = ok(d.apply({ op: 'leaseRevoke', id: 1 }));
  assert.deepEqual(revoked, { ok: true, kind: 'leaseRevoke', revision: 9, deleted: 2 });
  assert.deepEqual(seen.map((events) => events.map((e) => `${e.type} ${s(e.kv.key)}@${e.kv.modRevision}`)), [['delete a@9', 'delete b@9']]);
  assert.deepEqual([d.get('a'), d.get('b'), d.get('c'), d.get('d')], [null, null, '2', '1']);
  assert.equal(d.machine.lease(1), null);
  // Revoking a lease without keys creates no revision.
  ok(d.apply({ op: 'leaseGrant', id: 3, ttlSeconds: 5 }));
  assert.equal(ok(d.apply({ op: 'leaseRevoke', id: 3 })).revision, 9);
  assert.equal(ok(d.machine.range(b('c'))).kvs[0]?.lease, 2);
});
