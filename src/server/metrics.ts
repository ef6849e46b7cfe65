/**
 * One node's metrics (issue 10), in a prom-client registry of its own: several nodes can run
 * in one process (tests, the library), so nothing goes to prom-client's global registry. The
 * live state (term, indexes, peers, jobs, certificates) is read at scrape time
 * (node-gauges.ts); what only an event can tell (how long an fsync or an apply took, a join,
 * a fence) is recorded here as it happens. GET /metrics serves the registry (the API adds its
 * own series to it) and, when configured, otlp-exporter.ts pushes it to an OpenTelemetry
 * collector.
 */
import { Counter, exponentialBuckets, Gauge, Histogram, Registry } from 'prom-client';
import type { StateMachine } from '../node/index.js';
import type { FenceEvent } from '../state/index.js';
import type { StorageObserver } from '../storage/index.js';
import type { Logger } from '../util/log.js';
import type { ServerConfig } from './config.js';
import { registerNodeGauges, type MetricsSource } from './node-gauges.js';
import { OtlpExporter, otlpTarget } from './otlp-exporter.js';
import { registerOwned, type OwnedSeries } from './owned-series.js';

/** 0.5 ms to 4 s: a healthy SSD fsyncs in about a millisecond, a struggling disk in hundreds. */
const diskBuckets = exponentialBuckets(0.0005, 2, 14);
/** 10 µs to 1.3 s: one entry's apply is normally microseconds. */
const applyBuckets = exponentialBuckets(0.00001, 2, 18);
/** 1 ms to 32 s: a snapshot grows with the state it holds. */
const snapshotBuckets = exponentialBuckets(0.001, 2, 16);

/** The series recorded as events happen. */
function eventSeries(registry: Registry) {
  const registers = [registry];
  return {
    walFsync: new Histogram({ name: 'quorate_wal_fsync_duration_seconds', help: 'fdatasync of WAL segments; every acknowledged write waits for one.', buckets: diskBuckets, registers }),
    walAppend: new Histogram({ name: 'quorate_wal_append_duration_seconds', help: 'Group-committed WAL appends, write and fdatasync together.', buckets: diskBuckets, registers }),
    walBytes: new Counter({ name: 'quorate_wal_bytes_total', help: 'Bytes appended to the WAL.', registers }),
    snapshotSave: new Histogram({ name: 'quorate_snapshot_save_duration_seconds', help: 'Writing a snapshot file atomically (own snapshots and ones received from the leader).', buckets: snapshotBuckets, registers }),
    snapshotCreate: new Histogram({ name: 'quorate_snapshot_create_duration_seconds', help: 'Encoding the replicated state into a snapshot (periodic ones in slices between other work: wall time).', buckets: snapshotBuckets, registers }),
    snapshotSize: new Gauge({ name: 'quorate_snapshot_size_bytes', help: 'Size of the last snapshot file written.', registers }),
    apply: new Histogram({ name: 'quorate_apply_duration_seconds', help: 'Applying one committed entry to the state machine.', buckets: applyBuckets, registers }),
    joins: new Counter({ name: 'quorate_member_joins_total', help: 'Nodes this node added to the cluster as learners while it led.', registers }),
    promotions: new Counter({ name: 'quorate_member_promotions_total', help: 'Learners this node promoted to voters while it led.', registers }),
    fencing: new Counter({
      name: 'quorate_fencing_actions_total',
      help: 'Fencing attempts this node recorded as leader, by method (devices, watchdog, manual) and outcome (fenced, failed).',
      labelNames: ['method', 'outcome'] as const,
      registers,
    }),
    heartbeats: new Counter({ name: 'quorate_agent_heartbeats_total', help: 'Agent heartbeats this node received as leader, by node.', labelNames: ['node'] as const, registers }),
  };
}

export class NodeMetrics implements StorageObserver {
  readonly registry: Registry;
  private source: MetricsSource | null = null;
  private otlp: OtlpExporter | null = null;
  private readonly owned: OwnedSeries<ReturnType<typeof eventSeries>>;

  /** `registry`: one that outlives this node (a two_node survivor restarts its node under the same API). */
  constructor(registry?: Registry) {
    this.registry = registry ?? new Registry();
    this.owned = registerOwned(this.registry, (r) => {
      registerNodeGauges(r, () => this.source);
      return eventSeries(r);
    });
  }

  /**
   * Start reading the node's live state (before this the live series read 0), and pushing the
   * registry to an OpenTelemetry collector when the config or the environment names one.
   */
  start(source: MetricsSource, config: ServerConfig, log: Logger): void {
    this.source = source;
    const target = otlpTarget(config.otlpEndpoint, process.env);
    if (target === null || this.otlp !== null) return;
    const resource = { 'service.name': 'quorate', 'service.instance.id': config.nodeId, 'quorate.cluster': config.clusterName };
    this.otlp = new OtlpExporter({ registry: this.registry, target, resource, log });
    log.log('info', 'exporting metrics over OTLP', { url: target.url, intervalMs: target.intervalMs });
  }

  walAppended(durationMs: number, bytes: number): void {
    this.owned.series.walAppend.observe(durationMs / 1000);
    this.owned.series.walBytes.inc(bytes);
  }

  walSynced(durationMs: number): void {
    this.owned.series.walFsync.observe(durationMs / 1000);
  }

  snapshotSaved(durationMs: number, bytes: number): void {
    this.owned.series.snapshotSave.observe(durationMs / 1000);
    this.owned.series.snapshotSize.set(bytes);
  }

  /** The state machine as the driver should see it: the same, with apply and snapshot timed. */
  timed<R>(machine: StateMachine<R>): StateMachine<R> {
    const { apply, snapshotCreate } = this.owned.series;
    const inBackground = machine.snapshotInBackground?.bind(machine);
    return {
      apply: (entry) => timeSeconds(apply, () => machine.apply(entry)),
      snapshot: () => timeSeconds(snapshotCreate, () => machine.snapshot()),
      ...(inBackground === undefined
        ? {}
        : {
            // inBackground() runs at the call, capturing the state; the timing spans the chunks.
            snapshotInBackground: () => timedChunks(snapshotCreate, performance.now(), inBackground()),
          }),
      restore: (data) => machine.restore(data),
    };
  }

  memberJoined(): void {
    this.owned.series.joins.inc();
  }

  memberPromoted(): void {
    this.owned.series.promotions.inc();
  }

  fenced(event: Pick<FenceEvent, 'method' | 'outcome'>): void {
    this.owned.series.fencing.inc({ method: event.method, outcome: event.outcome });
  }

  heartbeatReceived(node: string): void {
    this.owned.series.heartbeats.inc({ node });
  }

  /** Stop exporting and take this node's series out of the registry (the API's stay). */
  async close(): Promise<void> {
    this.source = null;
    await this.otlp?.stop();
    this.otlp = null;
    this.owned.unregister();
  }
}

async function* timedChunks(histogram: Histogram, startedMs: number, chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* chunks;
  histogram.observe((performance.now() - startedMs) / 1000);
}

function timeSeconds<T>(histogram: Histogram, run: () => T): T {
  const startedMs = performance.now();
  try {
    return run();
  } finally {
    histogram.observe((performance.now() - startedMs) / 1000);
  }
}
