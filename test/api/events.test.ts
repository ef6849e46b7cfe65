/**
 * GET /v1/events on a real single node (issue 10), through the raw HTTP API and the client: the
 * buffered events in the contract's shape (`{events, next}`, each event `{seq, time, type,
 * node?, job?, term?, message}`), paging from `next`, and the follow stream: the buffered events
 * from `from`, a progress line with `next`, then new events as the node applies them (a job
 * that is placed and fails) and a progress line every interval; aborting the client's stream
 * ends it quietly.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterEventJson, EventsJson } from '../../src/api/index.js';
import { QuorateClient } from '../../src/client/index.js';
import { clusterEventTypes } from '../../src/server/index.js';
import { webJob } from '../workload/job-fixture.js';
import { SingleNode, singleNodeAdminToken } from './single-node.js';

let server: SingleNode;
let client: QuorateClient;

before(async () => {
  server = await SingleNode.start({ watch: { progressIntervalMs: 200 } });
  client = new QuorateClient({ endpoints: [server.url], token: singleNodeAdminToken });
});

after(async () => {
  await server.stop();
});

const fields = new Set(['seq', 'time', 'type', 'node', 'job', 'term', 'message']);

/** The contract, field by field. */
function assertEventShape(event: Record<string, unknown>): void {
  for (const key of Object.keys(event)) assert.ok(fields.has(key), `unexpected field ${key}`);
  assert.equal(typeof event.seq, 'number');
  assert.equal(typeof event.time, 'string');
  assert.equal(new Date(event.time as string).toISOString(), event.time, 'time is ISO 8601');
  assert.ok((clusterEventTypes as readonly unknown[]).includes(event.type), `type ${String(event.type)}`);
  assert.equal(typeof event.message, 'string');
  for (const key of ['node', 'job'] as const) assert.ok(event[key] === undefined || typeof event[key] === 'string', key);
  assert.ok(event.term === undefined || typeof event.term === 'number');
}

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== null) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A stream's lines as they arrive; `close` ends it. */
async function lines(path: string): Promise<{ next: () => Promise<Record<string, unknown>>; close: () => void }> {
  const abort = new AbortController();
  const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${singleNodeAdminToken}` }, signal: abort.signal });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/x-ndjson');
  assert.ok(response.body !== null);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const queued: string[] = [];
  let partial = '';
  return {
    next: async () => {
      while (queued.length === 0) {
        const { value, done } = await reader.read();
        assert.ok(!done, 'the stream ended');
        const split = (partial + value).split('\n');
        partial = split.pop() ?? '';
        queued.push(...split);
      }
      return JSON.parse(queued.shift() ?? '') as Record<string, unknown>;
    },
    close: () => abort.abort(),
  };
}

test('GET /v1/events answers the buffered events in the contract shape, and pages from next', async () => {
  const page = await until('the node to register as ready', async () => {
    const answer = await client.events();
    return answer.events.some((e) => e.type === 'node_ready') ? answer : null;
  });
  const id = server.node.id;
  const elected = page.events.find((e) => e.type === 'leader_elected');
  assert.equal(elected?.node, id);
  assert.ok((elected.term ?? 0) >= 1);
  assert.equal(elected.message, `${id} was elected leader (term ${elected.term})`);
  assert.deepEqual(
    page.events.map((e) => e.seq),
    page.events.map((_, i) => i + 1),
    'seqs count from 1 without gaps',
  );
  assert.equal(page.next, page.events.length + 1);

  const raw = await fetch(`${server.url}/v1/events?from=0`, { headers: { authorization: `Bearer ${singleNodeAdminToken}` } });
  assert.equal(raw.status, 200);
  const json = (await raw.json()) as EventsJson & Record<string, unknown>;
  assert.deepEqual(Object.keys(json).sort(), ['events', 'next']);
  for (const event of json.events) assertEventShape(event as unknown as Record<string, unknown>);

  const later = await client.events(page.next);
  assert.deepEqual(later.events.filter((e) => e.seq < page.next), [], 'from=next: only what came after');
  const bad = await fetch(`${server.url}/v1/events?from=-1`, { headers: { authorization: `Bearer ${singleNodeAdminToken}` } });
  assert.equal(bad.status, 400);
});

test('follow=true: the buffered events from `from`, a progress line with next, then new events as they happen', async () => {
  const { next } = await client.events();
  const stream = await lines(`/v1/events?from=${next - 1}&follow=true`);
  const following = new AbortController();
  const viaClient: ClusterEventJson[] = [];
  const clientDone = (async () => {
    for await (const event of client.followEvents({ from: next, signal: following.signal })) viaClient.push(event);
  })();
  try {
    const first = await stream.next();
    assert.equal(first.seq, next - 1, 'the stream starts at from');
    assertEventShape(first);
    assert.deepEqual(await stream.next(), { type: 'progress', next });

    // A job whose only copy exits with 3 and is never restarted: placed, then failed.
    await client.runJob({ ...webJob, name: 'exits', command: process.execPath, args: ['-e', 'process.exit(3)'], ports: [], restart: { policy: 'never', attempts: 0, delayMs: 0, windowMs: 60_000 } });
    const seen: Record<string, unknown>[] = [];
    let progressLines = 0;
    while (!seen.some((e) => e.type === 'job_failed')) {
      const line = await stream.next();
      if (line.type === 'progress') progressLines++;
      else seen.push(line);
    }
    for (const event of seen) assertEventShape(event);
    const placed = seen.find((e) => e.type === 'job_placed');
    const failed = seen.find((e) => e.type === 'job_failed');
    assert.equal(placed?.job, 'exits');
    assert.equal(placed.node, server.node.id);
    assert.equal(failed?.job, 'exits');
    assert.match(String(failed.message), new RegExp(`^job exits copy 0 failed on ${server.node.id} \\(allocation exits\\.0\\.[0-9a-f]+\\): `));
    assert.ok((placed.seq as number) < (failed.seq as number));
    while (progressLines === 0) if ((await stream.next()).type === 'progress') progressLines++;

    await until('the client stream to see the failure', () => Promise.resolve(viaClient.some((e) => e.type === 'job_failed') ? true : null));
    assert.deepEqual(
      viaClient.map((e) => e.seq),
      seen.filter((e) => (e.seq as number) >= next).map((e) => e.seq),
      'the client delivers the same events, once each',
    );
  } finally {
    stream.close();
    following.abort();
  }
  await clientDone;
});
