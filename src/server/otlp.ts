/**
 * prom-client's registry, as `getMetricsAsJSON()` gives it, turned into an OTLP/HTTP JSON
 * export request (opentelemetry-proto's ExportMetricsServiceRequest in its JSON mapping):
 * gauges stay gauges, counters become monotonic cumulative sums, histograms keep their
 * buckets (prom-client's cumulative `le` counts become per-bucket counts with explicit
 * bounds). Names stay the Prometheus ones, so a series reads the same on both paths.
 *
 * Why not the OpenTelemetry SDK: it would be a second metrics library beside prom-client with
 * its own instruments and a dozen packages (SDK, exporter, proto transformer, semantic
 * conventions), only to send what the registry already holds. The mapping below is what
 * that exporter would do for these three instrument kinds, and it is a pure function that a
 * test can check field by field.
 */
import type { Registry } from 'prom-client';

export type PromMetric = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];
type PromValue = PromMetric['values'][number] & { readonly metricName?: string };

interface KeyValue {
  readonly key: string;
  readonly value: { readonly stringValue: string };
}

export interface NumberDataPoint {
  readonly attributes: readonly KeyValue[];
  readonly startTimeUnixNano?: string;
  readonly timeUnixNano: string;
  readonly asDouble: number;
}

export interface HistogramDataPoint {
  readonly attributes: readonly KeyValue[];
  readonly startTimeUnixNano: string;
  readonly timeUnixNano: string;
  readonly count: string;
  readonly sum: number;
  readonly bucketCounts: readonly string[];
  readonly explicitBounds: readonly number[];
}

/** AGGREGATION_TEMPORALITY_CUMULATIVE: each point counts from startTimeUnixNano (OTLP JSON encodes enums as integers). */
export const cumulative = 2;

export type OtlpMetric = { readonly name: string; readonly description: string; readonly unit: string } & (
  | { readonly gauge: { readonly dataPoints: readonly NumberDataPoint[] } }
  | { readonly sum: { readonly aggregationTemporality: typeof cumulative; readonly isMonotonic: true; readonly dataPoints: readonly NumberDataPoint[] } }
  | { readonly histogram: { readonly aggregationTemporality: typeof cumulative; readonly dataPoints: readonly HistogramDataPoint[] } }
);

export interface OtlpRequest {
  readonly resourceMetrics: readonly {
    readonly resource: { readonly attributes: readonly KeyValue[] };
    readonly scopeMetrics: readonly { readonly scope: { readonly name: string; readonly version: string }; readonly metrics: readonly OtlpMetric[] }[];
  }[];
}

export interface OtlpTimes {
  /** When the cumulative series started counting (the exporter's start), ms since the epoch. */
  readonly startMs: number;
  readonly nowMs: number;
}

export function toOtlpRequest(metrics: readonly PromMetric[], resource: Readonly<Record<string, string>>, scope: { readonly name: string; readonly version: string }, times: OtlpTimes): OtlpRequest {
  const converted = metrics.flatMap((metric) => {
    const one = toOtlpMetric(metric, times);
    return one === null ? [] : [one];
  });
  return { resourceMetrics: [{ resource: { attributes: attributes(resource) }, scopeMetrics: [{ scope, metrics: converted }] }] };
}

/** Null for kinds Quorate does not register (summaries). */
function toOtlpMetric(metric: PromMetric, times: OtlpTimes): OtlpMetric | null {
  const head = { name: metric.name, description: metric.help, unit: unitOf(metric.name) };
  const startTimeUnixNano = nanos(times.startMs);
  const timeUnixNano = nanos(times.nowMs);
  const points = (withStart: boolean): NumberDataPoint[] =>
    metric.values.map((v) => ({ attributes: attributes(v.labels), ...(withStart ? { startTimeUnixNano } : {}), timeUnixNano, asDouble: v.value }));
  switch (String(metric.type)) {
    case 'gauge':
      return { ...head, gauge: { dataPoints: points(false) } };
    case 'counter':
      return { ...head, sum: { aggregationTemporality: cumulative, isMonotonic: true, dataPoints: points(true) } };
    case 'histogram':
      return { ...head, histogram: { aggregationTemporality: cumulative, dataPoints: histogramPoints(metric, startTimeUnixNano, timeUnixNano) } };
    default:
      return null;
  }
}

interface HistogramSeries {
  readonly labels: PromValue['labels'];
  /** Finite upper bounds and the cumulative count at each. */
  readonly buckets: [number, number][];
  count: number;
  sum: number;
}

/** prom-client lists a histogram as `_bucket` (one per `le`), `_sum` and `_count` values per label set. */
function histogramPoints(metric: PromMetric, startTimeUnixNano: string, timeUnixNano: string): HistogramDataPoint[] {
  const series = new Map<string, HistogramSeries>();
  for (const value of metric.values as readonly PromValue[]) {
    const { le, ...labels } = value.labels;
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    let entry = series.get(key);
    if (entry === undefined) {
      entry = { labels, buckets: [], count: 0, sum: 0 };
      series.set(key, entry);
    }
    const part = value.metricName?.slice(metric.name.length);
    if (part === '_sum') entry.sum = value.value;
    else if (part === '_count') entry.count = value.value;
    else if (part === '_bucket' && le !== undefined && le !== '+Inf') entry.buckets.push([Number(le), value.value]);
  }
  return [...series.values()].map((s) => {
    const bounds = s.buckets.sort(([a], [b]) => a - b);
    // Cumulative counts to per-bucket counts; the last bucket (above every bound) holds the rest.
    const counts = bounds.map(([, cum], i) => cum - (bounds[i - 1]?.[1] ?? 0));
    counts.push(s.count - (bounds[bounds.length - 1]?.[1] ?? 0));
    return {
      attributes: attributes(s.labels),
      startTimeUnixNano,
      timeUnixNano,
      count: String(s.count),
      sum: s.sum,
      bucketCounts: counts.map(String),
      explicitBounds: bounds.map(([bound]) => bound),
    };
  });
}

function attributes(labels: Readonly<Record<string, string | number | undefined>>): KeyValue[] {
  return Object.entries(labels).flatMap(([key, value]) => (value === undefined ? [] : [{ key, value: { stringValue: String(value) } }]));
}

/** UCUM units, from the Prometheus naming convention's unit suffix. */
function unitOf(name: string): string {
  if (name.endsWith('_seconds')) return 's';
  if (name.endsWith('_bytes') || name.endsWith('_bytes_total')) return 'By';
  return '';
}

/** Nanoseconds since the epoch as a decimal string: OTLP JSON carries 64-bit integers as strings. */
function nanos(ms: number): string {
  return (BigInt(Math.round(ms)) * 1_000_000n).toString();
}
