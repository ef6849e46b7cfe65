/**
 * The OTLP export (issue 10). The conversion from prom-client's registry is checked field by
 * field on a registry the test fills (gauge, counter, labelled histogram: bounds, per-bucket
 * counts, cumulative temporality); the endpoint follows the config file and the
 * OTEL_EXPORTER_OTLP_* variables; and a real node configured with `otlp_endpoint` pushes its
 * quorate_ series over HTTP to a receiver this test runs on a loopback socket, with sensible
 * values (it leads, its term is at least 1, its WAL fsynced). A collector that refuses an
 * export makes it fail.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { OtlpExporter, otlpTarget, parseServerConfig, ServerNode } from '../../src/server/index.js';
import { toOtlpRequest, type HistogramDataPoint, type NumberDataPoint, type OtlpMetric, type OtlpRequest } from '../../src/server/otlp.js';
import { silentLogger } from '../../src/util/log.js';
import { freePort } from '../api/single-node.js';

const times = { startMs: 1_700_000_000_000, nowMs: 1_700_000_060_000 };

function metricNamed(request: OtlpRequest, name: string): OtlpMetric {
  const found = request.resourceMetrics[0]?.scopeMetrics[0]?.metrics.find((m) => m.name === name);
  assert.ok(found !== undefined, `no metric ${name} in the export`);
  return found;
}

function numberPoints(metric: OtlpMetric): readonly NumberDataPoint[] {
  if ('gauge' in metric) return metric.gauge.dataPoints;
  if ('sum' in metric) return metric.sum.dataPoints;
  throw new Error(`${metric.name} is not a gauge or a sum`);
}

function histogramPoints(metric: OtlpMetric): readonly HistogramDataPoint[] {
  assert.ok('histogram' in metric, `${metric.name} is not a histogram`);
  return metric.histogram.dataPoints;
}

test('gauges, counters and histograms convert to OTLP gauges, monotonic cumulative sums and explicit-bucket histograms', async () => {
  const registry = new Registry();
  new Gauge({ name: 'quorate_term', help: 'term', registers: [registry] }).set(7);
  new Counter({ name: 'quorate_things_total', help: 'things', labelNames: ['kind'], registers: [registry] }).inc({ kind: 'a' }, 3);
  const histogram = new Histogram({ name: 'quorate_wait_seconds', help: 'waits', labelNames: ['op'], buckets: [0.1, 1], registers: [registry] });
  for (const seconds of [0.05, 0.5, 0.6, 5]) histogram.observe({ op: 'put' }, seconds);
  histogram.observe({ op: 'get' }, 0.01);
  const request = toOtlpRequest(await registry.getMetricsAsJSON(), { 'service.name': 'quorate' }, { name: 'quorate', version: '1' }, times);

  assert.deepEqual(request.resourceMetrics[0]?.resource.attributes, [{ key: 'service.name', value: { stringValue: 'quorate' } }]);
  const term = metricNamed(request, 'quorate_term');
  assert.ok('gauge' in term);
  assert.deepEqual(term.gauge.dataPoints, [{ attributes: [], timeUnixNano: '1700000060000000000', asDouble: 7 }]);

  const things = metricNamed(request, 'quorate_things_total');
  assert.ok('sum' in things);
  assert.equal(things.sum.isMonotonic, true);
  assert.equal(things.sum.aggregationTemporality, 2);
  assert.deepEqual(things.sum.dataPoints, [{ attributes: [{ key: 'kind', value: { stringValue: 'a' } }], startTimeUnixNano: '1700000000000000000', timeUnixNano: '1700000060000000000', asDouble: 3 }]);

  const wait = metricNamed(request, 'quorate_wait_seconds');
  assert.equal(wait.unit, 's');
  const puts = histogramPoints(wait).find((p) => p.attributes.some((a) => a.value.stringValue === 'put'));
  assert.ok(puts !== undefined);
  // prom-client's cumulative le counts (1, 3, 4) become per-bucket counts with the +Inf bucket last.
  assert.deepEqual(puts.explicitBounds, [0.1, 1]);
  assert.deepEqual(puts.bucketCounts, ['1', '2', '1']);
  assert.equal(puts.count, '4');
  assert.ok(Math.abs(puts.sum - 6.15) < 1e-9);
  assert.deepEqual(puts.attributes, [{ key: 'op', value: { stringValue: 'put' } }], 'le is a bound, not an attribute');
  assert.equal(histogramPoints(wait).length, 2, 'one data point per label set');
});

test('the endpoint comes from the config file, then the metrics variable as it is, then the base variable', () => {
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318/', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:4318/custom', OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%20b,x=1' };
  assert.deepEqual(otlpTarget('https://collector:4318', env), { url: 'https://collector:4318/v1/metrics', headers: { 'api-key': 'a b', x: '1' }, intervalMs: 5000 });
  assert.equal(otlpTarget(undefined, env)?.url, 'http://metrics:4318/custom');
  assert.equal(otlpTarget(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318/' })?.url, 'http://base:4318/v1/metrics');
  assert.equal(otlpTarget(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:4318' })?.intervalMs, 60_000);
  assert.equal(otlpTarget(undefined, {}), null);
  assert.equal(otlpTarget(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }), null);
  assert.throws(() => parseServerConfig({ cluster: { node_id: 1, listen_address: '127.0.0.1:1', initial_cluster: [{ id: 1, address: '127.0.0.1:1' }], db_root_dir: 'db', cluster_secret: 'x'.repeat(16), otlp_endpoint: 'collector:4318' } }, '/tmp'), /cluster\.otlp_endpoint: an http:\/\/ or https:\/\/ URL/);
});

/** A collector stand-in: records each export's path and body, answers `status`. */
async function receiver(status = 200): Promise<{ server: Server; url: string; received: { path: string; body: OtlpRequest }[] }> {
  const received: { path: string; body: OtlpRequest }[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => {
      assert.equal(request.headers['content-type'], 'application/json');
      received.push({ path: request.url ?? '', body: JSON.parse(text) as OtlpRequest });
      response.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

test('a node with otlp_endpoint pushes its quorate_ series to a collector over HTTP', async () => {
  const collector = await receiver();
  const dir = await mkdtemp(join(tmpdir(), 'quorate-otlp-'));
  // The standard interval variable, short so the test sees a few exports.
  process.env.OTEL_METRIC_EXPORT_INTERVAL = '200';
  const peer = `127.0.0.1:${await freePort()}`;
  const config = parseServerConfig(
    { cluster: { node_id: 1, listen_address: peer, initial_cluster: [{ id: 1, address: peer }], db_root_dir: join(dir, 'db'), cluster_secret: 'otlp-test-secret-0123456789', otlp_endpoint: collector.url } },
    dir,
  );
  const node = await ServerNode.start(config);
  try {
    const deadline = Date.now() + 10_000;
    const leading = (r: OtlpRequest): boolean => numberPoints(metricNamed(r, 'quorate_is_leader'))[0]?.asDouble === 1;
    while (!collector.received.some((r) => leading(r.body))) {
      assert.ok(Date.now() < deadline, `no export showing a leader within 10 s (${collector.received.length} received)`);
      await sleep(50);
    }
    const last = collector.received[collector.received.length - 1];
    assert.ok(last !== undefined);
    assert.equal(last.path, '/v1/metrics');
    const attributes = Object.fromEntries((last.body.resourceMetrics[0]?.resource.attributes ?? []).map((a) => [a.key, a.value.stringValue]));
    assert.deepEqual(attributes, { 'service.name': 'quorate', 'service.instance.id': '1', 'quorate.cluster': 'quorate' });
    assert.ok((numberPoints(metricNamed(last.body, 'quorate_term'))[0]?.asDouble ?? 0) >= 1);
    assert.ok((numberPoints(metricNamed(last.body, 'quorate_commit_index'))[0]?.asDouble ?? 0) >= 1);
    const leaderChanges = metricNamed(last.body, 'quorate_leader_changes_total');
    assert.ok('sum' in leaderChanges && leaderChanges.sum.isMonotonic);
    const fsync = histogramPoints(metricNamed(last.body, 'quorate_wal_fsync_duration_seconds'))[0];
    assert.ok(fsync !== undefined && Number(fsync.count) > 0, 'the WAL fsynced at least once');
    assert.equal(fsync.bucketCounts.reduce((sum, n) => sum + Number(n), 0), Number(fsync.count), 'the buckets add up to the count');
  } finally {
    await node.stop();
    delete process.env.OTEL_METRIC_EXPORT_INTERVAL;
    collector.server.close();
    await rm(dir, { recursive: true, force: true });
  }
  const afterStop = collector.received.length;
  await sleep(500);
  assert.equal(collector.received.length, afterStop, 'a stopped node exports nothing more');
});

test('an export the collector refuses fails', async () => {
  const collector = await receiver(500);
  const registry = new Registry();
  new Gauge({ name: 'quorate_term', help: 'term', registers: [registry] }).set(1);
  const exporter = new OtlpExporter({ registry, target: { url: `${collector.url}/v1/metrics`, headers: {}, intervalMs: 60_000 }, resource: {}, log: silentLogger });
  try {
    await assert.rejects(exporter.exportOnce(), /answered 500/);
    assert.equal(collector.received.length, 1);
  } finally {
    await exporter.stop();
    collector.server.close();
  }
});
