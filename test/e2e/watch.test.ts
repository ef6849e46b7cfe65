/**
 * Watches on real processes (127.0.13.1-3): a watch stream opened on a follower from a
 * revision delivers every event exactly once, in revision order, while writes go through
 * different nodes and the leader is SIGKILLed half-way. Checked against (a) the revisions the
 * acknowledged writes got, every one of which must appear once, and (b) a second watch replayed
 * afterwards from the same revision on another node, which must see the identical sequence.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adminToken, E2eCluster } from './harness.js';
import { httpsLines } from './https-request.js';

interface WatchLine {
  readonly type: string;
  readonly key?: string;
  readonly value?: string;
  readonly revision: number;
}

/** Read a watch stream until an event or progress line at `untilRevision` arrives. */
async function collect(cluster: E2eCluster, url: string, untilRevision: () => number | null, timeoutMs = 30_000): Promise<WatchLine[]> {
  const response = await httpsLines(url, { ca: cluster.caPem, headers: { authorization: `Bearer ${adminToken}` }, timeoutMs });
  assert.equal(response.status, 200);
  const events: WatchLine[] = [];
  for await (const text of response.lines) {
    const line = JSON.parse(text) as WatchLine;
    if (line.type !== 'progress') events.push(line);
    const until = untilRevision();
    // Leaving the loop closes the stream.
    if (until !== null && line.revision >= until) return events;
  }
  return events;
}

test('a watch sees every change exactly once, in order, across a leader kill', async (t) => {
  const cluster = await E2eCluster.create({ block: 13 });
  t.after(() => cluster.stop());
  await cluster.startAll();
  const leader = await cluster.waitForLeader([0, 1, 2]);
  const [watcher, other] = [0, 1, 2].filter((i) => i !== leader) as [number, number];
  const from = ((await cluster.status(watcher)).revision as number) + 1;
  let finalRevision: number | null = null;
  const watching = collect(cluster, `${cluster.api(watcher)}/v1/watch?prefix=w/&from=${from}`, () => finalRevision);

  const acknowledged: number[] = [];
  for (let n = 0; n < 60; n++) {
    if (n === 30) await cluster.signal(leader, 'SIGKILL');
    const via = n < 30 ? n % 3 : n % 2 === 0 ? watcher : other;
    for (let attempt = 0; ; attempt++) {
      const put = await cluster.put(via, `w/${n % 7}`, `v${n}.${attempt}`).catch(() => null);
      if (put?.status === 200) {
        acknowledged.push(put.body.revision as number);
        break;
      }
      assert.ok(attempt < 200, `write ${n} never succeeded`);
    }
  }
  finalRevision = Math.max(...acknowledged);
  // Nudge the stream so it reaches the final revision even if it is idle (progress every 5 s).
  const events = await watching;
  const revisions = events.map((e) => e.revision);
  for (let i = 1; i < revisions.length; i++) assert.ok((revisions[i] ?? 0) > (revisions[i - 1] ?? 0), `revisions strictly increase at ${i}: ${revisions.join(',')}`);
  for (const revision of acknowledged) assert.equal(revisions.filter((r) => r === revision).length, 1, `acknowledged revision ${revision} seen exactly once`);

  const replay = await collect(cluster, `${cluster.api(other)}/v1/watch?prefix=w/&from=${from}`, () => finalRevision);
  assert.deepEqual(replay, events, 'a replay from the same revision on another node sees the same events');
});
