/**
 * GET /metrics on a real single node (issue 10): it needs a read token, answers the Prometheus
 * text format, and its series follow what the node does: writes move the commit and applied
 * indexes, the committed proposals and the WAL's fsync histogram; each request lands in the
 * latency histogram under its operation and outcome; a refused token is counted. Two nodes in
 * one process keep separate registries, and a node's series leave the registry when it stops.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { QuorateClient } from '../../src/client/index.js';
import { NodeMetrics } from '../../src/server/index.js';
import { parsePromText, samplesOf, valueOf, type Sample } from '../server/prom-text.js';
import { SingleNode, singleNodeAdminToken } from './single-node.js';

let server: SingleNode;

before(async () => {
  server = await SingleNode.start();
});

after(async () => {
  await server.stop();
});

async function scrape(token: string | null = singleNodeAdminToken): Promise<{ status: number; contentType: string | null; samples: Sample[] }> {
  const response = await fetch(`${server.url}/metrics`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), samples: response.ok ? parsePromText(text) : [] };
}

test('GET /metrics needs a token and answers the Prometheus text format', async () => {
  assert.equal((await scrape(null)).status, 401);
  const { status, contentType, samples } = await scrape();
  assert.equal(status, 200);
  assert.match(contentType ?? '', /^text\/plain; version=0\.0\.4/);
  assert.equal(valueOf(samples, 'quorate_is_leader'), 1);
  assert.equal(valueOf(samples, 'quorate_has_leader'), 1);
  assert.equal(valueOf(samples, 'quorate_voters'), 1);
  assert.ok(valueOf(samples, 'quorate_term') >= 1);
  assert.ok(valueOf(samples, 'quorate_certificate_expiry_seconds', { certificate: 'node' }) > 300 * 86400, 'a fresh certificate is good for about a year');
  assert.equal(valueOf(samples, 'quorate_job_allocations', { state: 'running' }), 0);
  assert.ok(valueOf(samples, 'quorate_api_auth_failures_total', { code: 'unauthorized' }) >= 1, 'the scrape without a token was counted');
});

test('writes move the indexes, the proposals and the WAL histograms; requests are timed by operation', async () => {
  const before = (await scrape()).samples;
  const client = new QuorateClient({ endpoints: [server.url], token: singleNodeAdminToken });
  const writes = 5;
  for (let i = 0; i < writes; i++) await client.put(`metrics/${i}`, 'v');
  const after = (await scrape()).samples;
  const grew = (name: string, labels: Record<string, string> = {}): number => valueOf(after, name, labels) - valueOf(before, name, labels);
  assert.ok(grew('quorate_commit_index') >= writes);
  assert.ok(grew('quorate_applied_index') >= writes);
  assert.ok(grew('quorate_proposals_committed_total') >= writes);
  assert.equal(valueOf(after, 'quorate_proposals_pending'), 0);
  assert.ok(grew('quorate_wal_fsync_duration_seconds_count') >= writes);
  assert.ok(grew('quorate_wal_append_duration_seconds_count') >= writes);
  assert.ok(grew('quorate_apply_duration_seconds_count') >= writes);
  assert.ok(grew('quorate_wal_bytes_total') > 0);
  const puts = samplesOf(after, 'quorate_api_request_duration_seconds_count', { op: 'putKey', outcome: 'ok' });
  assert.equal(puts[0]?.value, writes);
  assert.ok(valueOf(after, 'quorate_api_request_duration_seconds_count', { op: 'metrics', outcome: 'ok' }) >= 1);
  assert.ok(valueOf(before, 'quorate_api_request_duration_seconds_count', { op: 'metrics', outcome: 'client_error' }) >= 1, 'the refused scrape was timed as a client error');
});

test('each node has a registry of its own, and a stopped node takes its series out', async () => {
  const first = new NodeMetrics();
  const second = new NodeMetrics();
  first.walSynced(2);
  assert.equal(valueOf(parsePromText(await second.registry.metrics()), 'quorate_wal_fsync_duration_seconds_count'), 0);
  // A successor registers the same names in the same registry once its predecessor closed.
  await first.close();
  assert.deepEqual(first.registry.getMetricsAsArray(), []);
  const successor = new NodeMetrics(first.registry);
  assert.equal(valueOf(parsePromText(await successor.registry.metrics()), 'quorate_term'), 0, 'the live series read 0 until the node starts');
  await successor.close();
  await second.close();
});
