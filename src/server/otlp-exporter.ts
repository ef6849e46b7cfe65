/**
 * Pushes a node's metrics registry to an OpenTelemetry collector over OTLP/HTTP with JSON
 * encoding (seed 001 names OpenTelemetry beside Prometheus), every OTEL_METRIC_EXPORT_INTERVAL
 * milliseconds (60 s by default), when an endpoint is configured. Where to send follows the
 * OpenTelemetry exporter conventions: the config file's `otlp_endpoint` first, then
 * OTEL_EXPORTER_OTLP_METRICS_ENDPOINT (used as it is), then OTEL_EXPORTER_OTLP_ENDPOINT; a
 * base endpoint gets `/v1/metrics` appended. OTEL_EXPORTER_OTLP_(METRICS_)HEADERS add headers
 * (`key=value,...`, e.g. a collector's API key).
 *
 * One export runs at a time and each is bounded by a timeout; a collector that is down costs
 * one warning when the exports start failing and one line when they work again, not a line
 * per interval.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../util/log.js';
import { version } from '../util/version.js';
import { toOtlpRequest } from './otlp.js';

export interface OtlpTarget {
  /** The full URL exports are POSTed to (…/v1/metrics). */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly intervalMs: number;
}

export const defaultOtlpIntervalMs = 60_000;
/** An export that takes longer is abandoned; the next interval tries again. */
const exportTimeoutMsMax = 10_000;

/** Where to export, or null when nothing is configured. `configured`: the TOML file's `otlp_endpoint`. */
export function otlpTarget(configured: string | undefined, env: NodeJS.ProcessEnv): OtlpTarget | null {
  const base = configured ?? nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const metricsUrl = configured === undefined ? nonEmpty(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT) : undefined;
  const url = metricsUrl ?? (base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/metrics`);
  if (url === undefined) return null;
  const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL);
  return {
    url,
    headers: { ...parseHeaders(env.OTEL_EXPORTER_OTLP_HEADERS), ...parseHeaders(env.OTEL_EXPORTER_OTLP_METRICS_HEADERS) },
    intervalMs: Number.isFinite(interval) && interval >= 1 ? interval : defaultOtlpIntervalMs,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** The OpenTelemetry header list format: `key=value` pairs separated by commas, values percent-encoded. */
function parseHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    headers[pair.slice(0, at).trim().toLowerCase()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

export interface OtlpExporterOptions {
  readonly registry: Registry;
  readonly target: OtlpTarget;
  /** Resource attributes: who is reporting (service.name, service.instance.id ...). */
  readonly resource: Readonly<Record<string, string>>;
  readonly log: Logger;
}

export class OtlpExporter {
  /** Cumulative series count from here: the registry is as new as the exporter. */
  private readonly startMs = Date.now();
  private readonly timer: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private failing = false;

  constructor(private readonly options: OtlpExporterOptions) {
    this.timer = setInterval(() => this.tick(), options.target.intervalMs);
    this.timer.unref();
  }

  /** Send the registry once now; rejects when the collector does not take it. */
  async exportOnce(): Promise<void> {
    const { registry, target, resource } = this.options;
    const body = JSON.stringify(toOtlpRequest(await registry.getMetricsAsJSON(), resource, { name: 'quorate', version }, { startMs: this.startMs, nowMs: Date.now() }));
    const response = await fetch(target.url, {
      method: 'POST',
      headers: { ...target.headers, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(Math.min(target.intervalMs, exportTimeoutMsMax)),
    });
    // The body is read so the connection can be reused; a collector's error message is short.
    const answer = await response.text();
    if (!response.ok) throw new Error(`${target.url} answered ${response.status}: ${answer.slice(0, 200)}`);
  }

  /** Stop exporting; an export under way finishes (within its timeout). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private tick(): void {
    if (this.running !== null) return;
    this.running = this.exportOnce().then(
      () => this.settled(null),
      // fetch rejects with Errors (network, timeout), exportOnce with its own.
      (error: unknown) => this.settled(error as Error),
    );
  }

  private settled(error: Error | null): void {
    this.running = null;
    const { log, target } = this.options;
    if (error !== null && !this.failing) log.log('warn', 'OTLP metrics export failing; retrying every interval', { url: target.url, reason: error.message });
    if (error === null && this.failing) log.log('info', 'OTLP metrics export works again', { url: target.url });
    this.failing = error !== null;
  }
}
