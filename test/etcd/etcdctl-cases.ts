/**
 * The conformance cases driven through Debian's `etcdctl`: what an operator types, checked on
 * the text etcdctl prints. Each case uses keys under its own prefix, so the cases share one
 * cluster without seeing each other's keys. Numbers that differ between implementations
 * (member and cluster ids, versions, exact revisions) are checked for their shape and their
 * relations, never for etcd's values.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { etcdctl, etcdctlOk, EtcdctlStream, parseTable } from './etcdctl.js';
import type { Target } from './targets.js';

/** The store's revision as the header of a `get -w json` reports it. */
async function revision(target: Target): Promise<number> {
  const json = JSON.parse(await etcdctlOk(target, ['get', 'no-such-key', '-w', 'json'])) as { header: { revision: number } };
  return json.header.revision;
}

/** The lease id etcdctl printed, as the hex it prints and takes. */
function leaseId(text: string): string {
  const match = /^lease ([0-9a-f]+) granted with TTL\((\d+)s\)$/m.exec(text);
  assert.ok(match?.[1] !== undefined, `no lease grant in: ${text}`);
  return match[1];
}

/**
 * Adds the spare learner. etcd refuses member changes until every member has been connected for
 * 5 s ("unhealthy cluster", its strict reconfiguration check), which a fresh cluster may not be.
 */
async function addSpare(target: Target): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const result = await etcdctl(target, ['member', 'add', 'spare', `--peer-urls=${target.sparePeerUrl}`, '--learner']);
    if (result.code === 0) return result.stdout;
    if (!result.stderr.includes('etcdserver: unhealthy cluster') || Date.now() > deadline) throw new Error(`member add failed: ${result.stderr}`);
    await sleep(500);
  }
}

export function etcdctlCases(target: () => Target): void {
  it('etcdctl put, get (prefix, limit, rev) and del', async () => {
    const t = target();
    assert.equal((await etcdctlOk(t, ['put', 'ctl/a', '1'])).trim(), 'OK');
    const first = await revision(t);
    await etcdctlOk(t, ['put', 'ctl/a', '2']);
    await etcdctlOk(t, ['put', 'ctl/b', '3']);
    await etcdctlOk(t, ['put', 'ctl/c', '4']);
    assert.equal(await etcdctlOk(t, ['get', 'ctl/a']), 'ctl/a\n2\n');
    assert.equal(await etcdctlOk(t, ['get', 'ctl/a', '--rev', String(first)]), 'ctl/a\n1\n');
    assert.equal(await etcdctlOk(t, ['get', 'ctl/', '--prefix']), 'ctl/a\n2\nctl/b\n3\nctl/c\n4\n');
    assert.equal(await etcdctlOk(t, ['get', 'ctl/', '--prefix', '--limit', '2']), 'ctl/a\n2\nctl/b\n3\n');
    assert.equal(await etcdctlOk(t, ['get', 'ctl/', '--prefix', '--keys-only']), 'ctl/a\n\nctl/b\n\nctl/c\n\n');
    const json = JSON.parse(await etcdctlOk(t, ['get', 'ctl/a', '-w', 'json'])) as { kvs: { create_revision: number; mod_revision: number; version: number }[] };
    const [kv] = json.kvs;
    assert.ok(kv !== undefined);
    assert.equal(kv.version, 2);
    assert.equal(kv.create_revision, first);
    assert.ok(kv.mod_revision > first);
    // Followers answer too: the second member sees the writes made through the first.
    assert.equal(await etcdctlOk(t, ['get', 'ctl/c'], { endpoints: t.endpoints.slice(1, 2) }), 'ctl/c\n4\n');
    assert.equal((await etcdctlOk(t, ['del', 'ctl/a'])).trim(), '1');
    assert.equal((await etcdctlOk(t, ['del', 'ctl/', '--prefix'])).trim(), '2');
    assert.equal(await etcdctlOk(t, ['get', 'ctl/', '--prefix']), '');
  });

  it('etcdctl txn with interactive input takes the success or the failure branch', async () => {
    const t = target();
    await etcdctlOk(t, ['put', 'txn/k', 'v1']);
    const script = (expected: string): string => `value("txn/k") = "${expected}"\n\nput txn/k "swapped"\nget txn/k\n\nput txn/failed "yes"\n\n`;
    const swapped = await etcdctlOk(t, ['txn', '-i'], { stdin: script('v1') });
    assert.match(swapped, /SUCCESS\n\nOK\n\ntxn\/k\nswapped\n/);
    const failed = await etcdctlOk(t, ['txn', '-i'], { stdin: script('v1') });
    assert.match(failed, /FAILURE\n\nOK\n/);
    assert.equal(await etcdctlOk(t, ['get', 'txn/failed']), 'txn/failed\nyes\n');
  });

  it('etcdctl watch from a revision sees past and live writes in order', async () => {
    const t = target();
    await etcdctlOk(t, ['put', 'watch/a', 'old']);
    const from = await revision(t);
    await etcdctlOk(t, ['put', 'watch/b', 'before']);
    const watch = new EtcdctlStream(t, ['watch', '--prefix', 'watch/', '--rev', String(from)]);
    try {
      // The first two events exist before the watch starts; the next ones happen while it runs.
      await watch.waitForLines(6);
      await etcdctlOk(t, ['put', 'watch/a', 'live']);
      await etcdctlOk(t, ['del', 'watch/b']);
      const lines = await watch.waitForLines(11);
      assert.deepEqual(lines.slice(0, 11), ['PUT', 'watch/a', 'old', 'PUT', 'watch/b', 'before', 'PUT', 'watch/a', 'live', 'DELETE', 'watch/b']);
    } finally {
      await watch.stop();
    }
  });

  it('etcdctl lease grant, keep-alive and revoke, with an attached key', async () => {
    const t = target();
    const id = leaseId(await etcdctlOk(t, ['lease', 'grant', '2']));
    await etcdctlOk(t, ['put', 'lease/k', 'v', `--lease=${id}`]);
    assert.match(await etcdctlOk(t, ['lease', 'timetolive', id, '--keys']), new RegExp(`^lease ${id} granted with TTL\\(2s\\), remaining\\(\\d+s\\), attached keys\\(\\[lease/k\\]\\)`));
    assert.match(await etcdctlOk(t, ['lease', 'list']), new RegExp(`^${id}$`, 'm'));
    const keepAlive = new EtcdctlStream(t, ['lease', 'keep-alive', id]);
    try {
      // Kept alive past twice its TTL, the lease and its key stay.
      await keepAlive.waitForLines(2);
      await sleep(3000);
      assert.ok(keepAlive.lines.every((line) => line === `lease ${id} keepalived with TTL(2)`), keepAlive.lines.join('\n'));
      assert.equal(await etcdctlOk(t, ['get', 'lease/k']), 'lease/k\nv\n');
    } finally {
      await keepAlive.stop();
    }
    assert.equal((await etcdctlOk(t, ['lease', 'keep-alive', '--once', id])).trim(), `lease ${id} keepalived with TTL(2)`);
    assert.equal((await etcdctlOk(t, ['lease', 'revoke', id])).trim(), `lease ${id} revoked`);
    assert.equal(await etcdctlOk(t, ['get', 'lease/k']), '');
    const gone = await etcdctl(t, ['lease', 'keep-alive', '--once', id]);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /requested lease not found/);
  });

  it('etcdctl member list -w table shows three started voters with their URLs', async () => {
    const t = target();
    const rows = parseTable(await etcdctlOk(t, ['member', 'list', '-w', 'table']));
    assert.equal(rows.length, 3);
    for (const row of rows) {
      assert.match(row.ID ?? '', /^[0-9a-f]{1,16}$/);
      assert.equal(row.STATUS, 'started');
      assert.notEqual(row.NAME, '');
      assert.match(row['PEER ADDRS'] ?? '', /^https?:\/\/127\.0\.7\d\.[1-3]:\d+$/);
      assert.equal(row['IS LEARNER'], 'false');
    }
    assert.deepEqual(rows.map((row) => row['CLIENT ADDRS']).sort(), [...t.endpoints].sort());
    assert.equal(new Set(rows.map((row) => row.ID)).size, 3);
  });

  it('etcdctl member add (learner), promote and remove', async () => {
    const t = target();
    const added = await addSpare(t);
    // etcdctl pads ids to 16 characters with spaces (%16x); an id may be shorter.
    const id = /^Member +([0-9a-f]+) added to cluster +[0-9a-f]+$/m.exec(added)?.[1];
    assert.ok(id !== undefined, added);
    const rows = parseTable(await etcdctlOk(t, ['member', 'list', '-w', 'table']));
    assert.equal(rows.length, 4);
    assert.deepEqual(
      rows.filter((row) => row.ID === id).map((row) => [row.STATUS, row['PEER ADDRS'], row['IS LEARNER']]),
      [['unstarted', t.sparePeerUrl, 'true']],
    );
    // A learner that never started has not caught up, so it cannot be promoted.
    const promoted = await etcdctl(t, ['member', 'promote', id]);
    assert.notEqual(promoted.code, 0);
    assert.match(promoted.stderr, /etcdserver: can only promote a learner member which is in sync with leader/);
    const again = await etcdctl(t, ['member', 'add', 'twice', `--peer-urls=${t.sparePeerUrl}`]);
    // etcd hashes a new member's ID from its peer URLs and the time in seconds: an add within
    // the same second collides on the ID, a later one on the URL. Both refuse the second add.
    assert.match(again.stderr, /etcdserver: (Peer URLs already exists|member ID already exist)/);
    assert.match(await etcdctlOk(t, ['member', 'remove', id]), new RegExp(`^Member +${id} removed from cluster +[0-9a-f]+$`, 'm'));
    assert.equal(parseTable(await etcdctlOk(t, ['member', 'list', '-w', 'table'])).length, 3);
    const gone = await etcdctl(t, ['member', 'remove', id]);
    assert.match(gone.stderr, /etcdserver: member not found/);
  });

  it('etcdctl endpoint status on all three endpoints agrees on one leader', async () => {
    const t = target();
    const rows = parseTable(await etcdctlOk(t, ['endpoint', 'status', '-w', 'table'], { endpoints: t.endpoints }));
    assert.deepEqual(rows.map((row) => row.ENDPOINT), [...t.endpoints]);
    assert.equal(rows.filter((row) => row['IS LEADER'] === 'true').length, 1);
    for (const row of rows) {
      assert.match(row.VERSION ?? '', /^3\.4\./);
      assert.match(row['DB SIZE'] ?? '', /^\d+(\.\d+)? (B|kB|MB)$/);
      assert.equal(row['IS LEARNER'], 'false');
      assert.ok(Number(row['RAFT TERM']) >= 1);
      assert.ok(Number(row['RAFT INDEX']) > 0 && Number(row['RAFT APPLIED INDEX']) > 0);
      assert.equal(row.ERRORS, '');
    }
    // The JSON form names the leader's member id; uint64 ids are compared as the digits printed.
    const json = await etcdctlOk(t, ['endpoint', 'status', '-w', 'json'], { endpoints: t.endpoints });
    const leaders = [...json.matchAll(/"leader":(\d+)/g)].map((m) => m[1]);
    const members = [...json.matchAll(/"member_id":(\d+)/g)].map((m) => m[1]);
    assert.equal(leaders.length, 3);
    assert.equal(new Set(leaders).size, 1);
    assert.ok(members.includes(leaders[0]), `leader ${leaders[0]} is one of ${members.join(', ')}`);
  });

  it('etcdctl endpoint health --cluster finds every member healthy', async () => {
    const t = target();
    // etcdctl prints the health lines on stderr, and exits non-zero when a member is unhealthy.
    const result = await etcdctl(t, ['endpoint', 'health', '--cluster']);
    assert.equal(result.code, 0, result.stderr);
    const healthy = result.stderr
      .split('\n')
      .filter((line) => line.includes(' is healthy: successfully committed proposal'))
      .map((line) => line.split(' ')[0])
      .sort();
    assert.deepEqual(healthy, [...t.endpoints].sort());
  });

  it('etcdctl compaction makes older revisions unreadable with etcd\'s error', async () => {
    const t = target();
    await etcdctlOk(t, ['put', 'compact/k', 'v1']);
    const old = await revision(t);
    await etcdctlOk(t, ['put', 'compact/k', 'v2']);
    const now = await revision(t);
    assert.equal((await etcdctlOk(t, ['compaction', String(now)])).trim(), `compacted revision ${now}`);
    const read = await etcdctl(t, ['get', 'compact/k', '--rev', String(old)]);
    assert.notEqual(read.code, 0);
    assert.match(read.stderr, /etcdserver: mvcc: required revision has been compacted/);
    assert.equal(await etcdctlOk(t, ['get', 'compact/k', '--rev', String(now)]), 'compact/k\nv2\n');
    const again = await etcdctl(t, ['compaction', String(old)]);
    assert.match(again.stderr, /etcdserver: mvcc: required revision has been compacted/);
  });
}
