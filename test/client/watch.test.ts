/**
 * QuorateClient.watch over real sockets against a real single-node server: history from a
 * revision then live events, in order; resuming on the second endpoint when the first API
 * server closes under an open stream, and reconnecting when a stream falls silent past the
 * idle timeout, each time with every event delivered exactly once (compared with the writes'
 * own revisions); and the errors that end a watch (compacted start, no endpoint reachable).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startApiServer } from '../../src/api/index.js';
import { QuorateClient, QuorateClientError, type WatchEvent, type WatchStream } from '../../src/client/index.js';
import { freePort, SingleNode, singleNodeAdminToken } from '../api/single-node.js';
import { silentLogger } from '../../src/util/log.js';

let server: SingleNode;
let client: QuorateClient;

before(async () => {
  server = await SingleNode.start({ watch: { progressIntervalMs: 100 } });
  client = new QuorateClient({ token: singleNodeAdminToken, endpoints: [server.url] });
});

after(async () => {
  await server.stop();
});

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** The next `count` events of a watch, leaving it open. */
async function take(iterator: AsyncIterator<WatchEvent>, count: number): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  while (events.length < count) {
    const next = await iterator.next();
    if (next.done === true) assert.fail(`the watch ended after ${events.length} of ${count} events`);
    events.push(next.value);
  }
  return events;
}

function summary(events: readonly WatchEvent[]): string[] {
  return events.map((e) => `${e.type} ${text(e.kv.key)}=${text(e.kv.value)} @${e.revision}`);
}

test('history from a revision, then live events in order; close() ends the iteration', async () => {
  const first = await client.put('h/a', '1');
  await client.put('h/b', '2');
  const watch = client.watch({ prefix: 'h/' }, { from: first.revision });
  const iterator = watch[Symbol.asyncIterator]();
  const history = await take(iterator, 2);
  const third = await client.put('h/a', '3');
  const removed = await client.delete('h/', { prefix: true });
  const live = await take(iterator, 3);
  assert.deepEqual(summary([...history, ...live]), [
    `put h/a=1 @${first.revision}`,
    `put h/b=2 @${first.revision + 1}`,
    `put h/a=3 @${third.revision}`,
    `delete h/a= @${removed.revision}`,
    `delete h/b= @${removed.revision}`,
  ]);
  watch.close();
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
});

test('a single key, from now on', async () => {
  await client.put('single', 'before');
  const watch = client.watch({ key: 'single' });
  const iterator = watch[Symbol.asyncIterator]();
  // Let the stream start before writing, since "from now" means from when it is established.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await client.put('single-other', 'x');
  const put = await client.put('single', 'after');
  assert.deepEqual(summary(await take(iterator, 1)), [`put single=after @${put.revision}`]);
  watch.close();
});

test('when its endpoint closes, the watch resumes on the next one without missing or repeating events', async () => {
  const first = await startApiServer(server.node.service, { host: '127.0.0.1', port: 0, log: silentLogger });
  const second = await startApiServer(server.node.service, { host: '127.0.0.1', port: 0, log: silentLogger });
  const twoEndpoints = new QuorateClient({ token: singleNodeAdminToken, endpoints: [first.url, second.url] });
  let watch: WatchStream | null = null;
  try {
    const start = await client.put('r/0', 'v0');
    watch = twoEndpoints.watch({ prefix: 'r/' }, { from: start.revision, retryDelayMs: 10 });
    const iterator = watch[Symbol.asyncIterator]();
    const expected = [`put r/0=v0 @${start.revision}`];
    for (let i = 1; i <= 3; i++) expected.push(`put r/${i}=v${i} @${(await client.put(`r/${i}`, `v${i}`)).revision}`);
    const before = await take(iterator, 4);
    await first.close();
    // Writes while no stream is open, and a revision with several events.
    for (let i = 4; i <= 6; i++) expected.push(`put r/${i}=v${i} @${(await client.put(`r/${i}`, `v${i}`)).revision}`);
    const removed = await client.delete('r/', { prefix: true });
    for (let i = 0; i <= 6; i++) expected.push(`delete r/${i}= @${removed.revision}`);
    const afterwards = await take(iterator, expected.length - 4);
    assert.deepEqual(summary([...before, ...afterwards]), expected);
  } finally {
    watch?.close();
    await first.close();
    await second.close();
  }
});

test('a stream silent past the idle timeout is reopened, still exactly once', async () => {
  // The server sends progress every 5 s; the client gives up on silence after 150 ms.
  const slow = await startApiServer(server.node.service, { host: '127.0.0.1', port: 0, log: silentLogger, watch: { progressIntervalMs: 5000 } });
  const impatient = new QuorateClient({ token: singleNodeAdminToken, endpoints: [slow.url] });
  const start = await client.put('idle/0', '0');
  const watch = impatient.watch({ prefix: 'idle/' }, { from: start.revision, idleTimeoutMs: 150, retryDelayMs: 10 });
  try {
    const iterator = watch[Symbol.asyncIterator]();
    const expected = [`put idle/0=0 @${start.revision}`];
    for (let i = 1; i <= 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      expected.push(`put idle/${i}=${i} @${(await client.put(`idle/${i}`, String(i))).revision}`);
    }
    assert.deepEqual(summary(await take(iterator, expected.length)), expected);
  } finally {
    watch.close();
    await slow.close();
  }
});

test('a compacted start revision ends the watch with the compacted error', async () => {
  await client.put('compacted', 'a');
  const latest = await client.put('compacted', 'b');
  assert.equal((await server.node.service.write({ op: 'compact', revision: latest.revision })).ok, true);
  const watch = client.watch({ key: 'compacted' }, { from: 1 });
  await assert.rejects(watch[Symbol.asyncIterator]().next(), (error: unknown) => error instanceof QuorateClientError && error.code === 'compacted' && error.status === 410);
});

test('a watch whose endpoints are all unreachable at the start fails at once', async () => {
  const nowhere = new QuorateClient({ token: singleNodeAdminToken, endpoints: [`http://127.0.0.1:${await freePort()}`] });
  const watch = nowhere.watch({ prefix: '' });
  await assert.rejects(watch[Symbol.asyncIterator]().next(), (error: unknown) => error instanceof QuorateClientError && error.code === 'unreachable');
});
