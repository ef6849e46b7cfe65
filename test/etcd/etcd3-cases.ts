/**
 * The conformance cases driven through the `etcd3` npm client, as an application uses it:
 * puts and gets, a transaction's if/then/else, a watch, leases (kept alive, revoked, expired),
 * and the election and lock recipes built on them. Each case opens its own client (closed at
 * the end) and uses keys under its own prefix.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Etcd3, EtcdLockFailedError, type IKeyValue } from 'etcd3';
import type { Target } from './targets.js';

async function withClient(target: Target, body: (client: Etcd3) => Promise<void>): Promise<void> {
  const client = new Etcd3(target.clientOptions);
  try {
    await body(client);
  } finally {
    client.close();
  }
}

/** Resolves once `predicate` holds, checking every 50 ms; rejects with `what` after `timeoutMs`. */
async function eventually(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function etcd3Cases(target: () => Target): void {
  it('etcd3 puts and gets: single keys, prefixes, counts, previous values', async () => {
    await withClient(target(), async (client) => {
      await client.put('js/a').value('1');
      await client.put('js/b').value('2');
      const previous = await client.put('js/a').value('3').getPrevious();
      assert.equal(previous.value.toString(), '1');
      assert.equal(await client.get('js/a').string(), '3');
      assert.equal(await client.get('js/missing').string(), null);
      assert.deepEqual(await client.getAll().prefix('js/').strings(), { 'js/a': '3', 'js/b': '2' });
      assert.equal(await client.getAll().prefix('js/').count(), 2);
      assert.deepEqual(await client.getAll().prefix('js/').limit(1).keys(), ['js/a']);
      assert.equal((await client.delete().key('js/a')).deleted, '1');
      assert.deepEqual(await client.getAll().prefix('js/').keys(), ['js/b']);
    });
  });

  it('etcd3 txn: if/then/else on value and version', async () => {
    await withClient(target(), async (client) => {
      await client.put('jstxn/k').value('v1');
      const swapped = await client.if('jstxn/k', 'Value', '==', 'v1').then(client.put('jstxn/k').value('v2')).else(client.get('jstxn/k')).commit();
      assert.equal(swapped.succeeded, true);
      const refused = await client.if('jstxn/k', 'Value', '==', 'v1').then(client.put('jstxn/k').value('v3')).else(client.get('jstxn/k')).commit();
      assert.equal(refused.succeeded, false);
      const kvs = refused.responses[0]?.response_range.kvs ?? [];
      assert.equal(kvs[0]?.value.toString(), 'v2');
      const created = await client.if('jstxn/new', 'Create', '==', 0).then(client.put('jstxn/new').value('x')).commit();
      assert.equal(created.succeeded, true);
      const versioned = await client.if('jstxn/k', 'Version', '>', 1).then(client.delete().key('jstxn/k')).commit();
      assert.equal(versioned.succeeded, true);
      assert.equal(await client.get('jstxn/k').string(), null);
    });
  });

  it('etcd3 watch on a prefix sees puts and deletes with previous values', async () => {
    await withClient(target(), async (client) => {
      const watcher = await client.watch().prefix('jswatch/').withPreviousKV().create();
      const seen: string[] = [];
      watcher.on('put', (kv: IKeyValue, previous?: IKeyValue) => seen.push(`put ${kv.key.toString()}=${kv.value.toString()} prev=${previous?.value.toString() ?? '-'}`));
      watcher.on('delete', (kv: IKeyValue, previous?: IKeyValue) => seen.push(`delete ${kv.key.toString()} prev=${previous?.value.toString() ?? '-'}`));
      try {
        await client.put('jswatch/a').value('1');
        await client.put('jswatch/a').value('2');
        await client.put('other').value('ignored');
        await client.delete().key('jswatch/a');
        await eventually('three events', () => seen.length >= 3);
        assert.deepEqual(seen, ['put jswatch/a=1 prev=-', 'put jswatch/a=2 prev=1', 'delete jswatch/a prev=2']);
      } finally {
        await watcher.cancel();
      }
    });
  });

  it('etcd3 leases: attached keys live while kept alive, go with revoke and with expiry', async () => {
    await withClient(target(), async (client) => {
      const kept = client.lease(2);
      await kept.put('jslease/kept').value('v');
      const answer = await kept.keepaliveOnce();
      assert.equal(answer.TTL, '2');
      await kept.revoke();
      assert.equal(await client.get('jslease/kept').string(), null);
      const expiring = client.lease(1, { autoKeepAlive: false });
      await expiring.put('jslease/expiring').value('v');
      assert.equal(await client.get('jslease/expiring').string(), 'v');
      await eventually('the expired lease takes its key', async () => (await client.get('jslease/expiring').string()) === null);
    });
  });

  it('etcd3 election: one leader at a time, the next one after a resignation', async () => {
    await withClient(target(), async (client) => {
      const election = client.election('jselection', 5);
      const first = election.campaign('first');
      await first.wait();
      const second = election.campaign('second');
      // wait() only hears an 'elected' emitted after it is called, so it is called right away.
      let secondElected = false;
      const elected = second.wait().then(() => (secondElected = true));
      const observer = await election.observe();
      try {
        assert.equal(await election.leader(), 'first');
        assert.equal(secondElected, false);
        await first.resign();
        await elected;
        assert.equal(await election.leader(), 'second');
        await eventually('the observer follows the leader', () => observer.leader() === 'second');
      } finally {
        await observer.cancel();
        await second.resign();
      }
    });
  });

  it('etcd3 lock: a held lock refuses a second holder until released', async () => {
    await withClient(target(), async (client) => {
      const held = await client.lock('jslock').ttl(5).acquire();
      await assert.rejects(client.lock('jslock').ttl(5).acquire(), EtcdLockFailedError);
      await held.release();
      const order: string[] = [];
      await Promise.all(['a', 'b'].map((name) => retryLock(client, name, order)));
      assert.equal(order.length, 4);
      // Each holder's start and end are adjacent: no two holders at once.
      assert.equal(order[0]?.slice(1), order[1]?.slice(1));
      assert.equal(order[2]?.slice(1), order[3]?.slice(1));
    });
  });
}

/** Takes the lock (retrying while another holds it) and records entering and leaving. */
async function retryLock(client: Etcd3, name: string, order: string[]): Promise<void> {
  for (;;) {
    try {
      await client
        .lock('jslock')
        .ttl(5)
        .do(async () => {
          order.push(`+${name}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
          order.push(`-${name}`);
        });
      return;
    } catch (error) {
      if (!(error instanceof EtcdLockFailedError)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
