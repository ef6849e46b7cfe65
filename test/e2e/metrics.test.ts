/**
 * GET /metrics on a real 3-node cluster (issue 10), scraped over HTTPS with the admin token from
 * three `quorate server` processes on 127.0.61.1-3: the core series exist on every node, exactly
 * one node says it leads and it is the leader every node names, and the series move with the
 * cluster: writes raise every node's commit and applied index and its WAL fsync count, the
 * leader reports each follower's replication lag and last contact, and after a SIGKILL of the
 * leader the survivors' term rises, they count the leader change, and one of them leads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePromText, samplesOf, valueOf, type Sample } from '../server/prom-text.js';
import { adminToken, E2eCluster } from './harness.js';
import { httpsText } from './https-request.js';

const coreSeries = [
  'quorate_term',
  'quorate_is_leader',
  'quorate_leader_changes_total',
  'quorate_proposals_committed_total',
  'quorate_proposals_failed_total',
  'quorate_proposals_pending',
  'quorate_commit_index',
  'quorate_applied_index',
  'quorate_wal_fsync_duration_seconds_count',
  'quorate_wal_append_duration_seconds_count',
  'quorate_apply_duration_seconds_count',
  'quorate_api_request_duration_seconds_count',
  'quorate_certificate_expiry_seconds',
  'quorate_job_allocations',
  'quorate_api_connections_open',
];

async function scrape(cluster: E2eCluster, i: number): Promise<Sample[]> {
  const { status, text } = await httpsText(`${cluster.api(i)}/metrics`, { ca: cluster.caPem, headers: { authorization: `Bearer ${adminToken}` }, timeoutMs: 5000 });
  assert.equal(status, 200, `node ${i + 1} answered /metrics with ${status}: ${text.slice(0, 200)}`);
  return parsePromText(text);
}

/** Scrape `nodes` until `ok` holds on each (followers learn the commit index a heartbeat later). */
async function scrapeUntil(cluster: E2eCluster, nodes: readonly number[], ok: (samples: Sample[], i: number) => boolean, what: string): Promise<Sample[][]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const scraped = await Promise.all(nodes.map((i) => scrape(cluster, i)));
    if (scraped.every((samples, j) => ok(samples, nodes[j] ?? -1))) return scraped;
    assert.ok(Date.now() < deadline, `within 10 s: ${what}`);
    await sleep(100);
  }
}

test('every node exports the core series, and they move with writes and a new election', async () => {
  const cluster = await E2eCluster.create({ block: 61 });
  try {
    await cluster.startAll();
    const all = [0, 1, 2];
    const leader = await cluster.waitForLeader(all);
    const first = await scrapeUntil(cluster, all, (s) => valueOf(s, 'quorate_has_leader') === 1, 'every node knows the leader');
    for (const [i, samples] of first.entries()) for (const name of coreSeries) assert.ok(samplesOf(samples, name).length > 0, `node ${i + 1} has no ${name}`);
    assert.deepEqual(first.map((s) => valueOf(s, 'quorate_is_leader')), all.map((i) => (i === leader ? 1 : 0)), 'exactly the leader says it leads');

    const writes = 20;
    for (let w = 0; w < writes; w++) assert.equal((await cluster.put(leader, `metrics/${w}`, 'v')).status, 200);
    const at = (i: number, name: string): number => valueOf(first[i] ?? [], name);
    const moved = await scrapeUntil(
      cluster,
      all,
      (s, i) => valueOf(s, 'quorate_applied_index') >= at(i, 'quorate_applied_index') + writes && valueOf(s, 'quorate_commit_index') >= at(i, 'quorate_commit_index') + writes,
      `every node's commit and applied index rise by at least ${writes}`,
    );
    for (const i of all) {
      const samples = moved[i] ?? [];
      assert.ok(valueOf(samples, 'quorate_wal_fsync_duration_seconds_count') > at(i, 'quorate_wal_fsync_duration_seconds_count'), `node ${i + 1}'s fsync count did not grow`);
    }
    const leaderSamples = moved[leader] ?? [];
    assert.ok(valueOf(leaderSamples, 'quorate_proposals_committed_total') - at(leader, 'quorate_proposals_committed_total') >= writes);
    const followers = all.filter((i) => i !== leader);
    assert.deepEqual(samplesOf(leaderSamples, 'quorate_replication_lag_entries').map((s) => s.labels.peer).sort(), followers.map((i) => String(i + 1)));
    for (const i of followers) assert.ok(valueOf(leaderSamples, 'quorate_peer_last_contact_seconds', { peer: String(i + 1) }) < 5, `the leader has not heard from node ${i + 1} lately`);
    for (const i of followers) {
      const peer = { peer: String(i + 1) };
      const messages = valueOf(leaderSamples, 'quorate_peer_messages_sent_total', peer) - valueOf(first[leader] ?? [], 'quorate_peer_messages_sent_total', peer);
      const frames = valueOf(leaderSamples, 'quorate_peer_frames_sent_total', peer) - valueOf(first[leader] ?? [], 'quorate_peer_frames_sent_total', peer);
      // Every write reaches every follower in at least one append; several messages may share a frame.
      assert.ok(frames > 0 && messages >= frames && messages >= writes, `to node ${i + 1}: ${messages} messages in ${frames} frames for ${writes} writes`);
    }
    assert.equal(samplesOf(moved[followers[0] ?? 0] ?? [], 'quorate_replication_lag_entries').length, 0, 'only the leader reports replication lag');

    await cluster.signal(leader, 'SIGKILL');
    const next = await cluster.waitForLeader(followers);
    const after = await scrapeUntil(cluster, followers, (s) => valueOf(s, 'quorate_has_leader') === 1, 'the survivors know the new leader');
    for (const [j, i] of followers.entries()) {
      const samples = after[j] ?? [];
      assert.ok(valueOf(samples, 'quorate_term') > at(i, 'quorate_term'), `node ${i + 1}'s term did not rise after the election`);
      assert.ok(valueOf(samples, 'quorate_leader_changes_total') > at(i, 'quorate_leader_changes_total'), `node ${i + 1} did not count the leader change`);
      assert.equal(valueOf(samples, 'quorate_is_leader'), i === next ? 1 : 0);
    }
  } finally {
    await cluster.stop();
  }
});
