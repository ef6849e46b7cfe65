/**
 * The API's series, registered in the node's registry beside the node's own: each request's
 * latency by operation (the route's handler: getKey, putKey, txn, watch ...) and outcome (from
 * the status code), and the counters GET /v1/status shows under `api` (connections, refused
 * credentials, watch streams, leases). Latency runs from the request's arrival until its
 * response is finished or cut; for streams (watches, followed logs) that is how long the stream
 * stayed open.
 */
import type { ServerResponse } from 'node:http';
import { exponentialBuckets, Histogram, Registry } from 'prom-client';
import { mirror, registerOwned, type MirrorSpec, type OwnedSeries } from '../server/index.js';
import type { ApiCountersJson } from './wire.js';

/** 0.5 ms to 16 s: a local read takes under a millisecond, a write an fsync round or more. */
const requestBuckets = exponentialBuckets(0.0005, 2, 16);

export type Outcome = 'ok' | 'client_error' | 'unavailable' | 'server_error';

/** 503 is the cluster's answer (no quorum, outcome unknown), not a fault of the API: it gets its own outcome. */
export function outcomeOf(status: number): Outcome {
  if (status < 400) return 'ok';
  if (status < 500) return 'client_error';
  return status === 503 ? 'unavailable' : 'server_error';
}

function counterSpecs(counters: () => ApiCountersJson): MirrorSpec[] {
  return [
    { name: 'quorate_api_connections_open', help: 'Connections open to this API.', type: 'gauge', read: () => counters().connections.open },
    { name: 'quorate_api_connections_refused_total', help: 'Connections closed on arrival: over the total or per-address limit.', type: 'counter', read: () => counters().connections.refused },
    {
      name: 'quorate_api_auth_failures_total',
      help: 'Requests refused for their credentials, by code (unauthorized, forbidden, too_many_attempts).',
      type: 'counter',
      labelNames: ['code'],
      read: () => Object.entries(counters().authFailures).map(([code, n]) => [{ code }, n] as const),
    },
    { name: 'quorate_api_watch_streams_open', help: 'Watch streams open on this API.', type: 'gauge', read: () => counters().watches.open },
    { name: 'quorate_api_watch_streams_refused_total', help: 'Watch streams refused: the token held too many.', type: 'counter', read: () => counters().watches.refused },
    { name: 'quorate_api_watch_streams_cut_total', help: 'Watch streams ended because their reader fell too far behind.', type: 'counter', read: () => counters().watches.cutBehind },
    { name: 'quorate_api_leases_tracked', help: 'Live leases granted through this API, counted against their tokens.', type: 'gauge', read: () => counters().leases.tracked },
    { name: 'quorate_api_lease_grants_refused_total', help: 'Lease grants refused: the token held too many.', type: 'counter', read: () => counters().leases.refused },
  ];
}

export class RequestMetrics {
  /** What GET /metrics serves: the node's registry, or one of the API's own when it was given none. */
  readonly registry: Registry;
  private readonly owned: OwnedSeries<Histogram<'op' | 'outcome'>>;

  constructor(registry: Registry | undefined, counters: () => ApiCountersJson) {
    this.registry = registry ?? new Registry();
    this.owned = registerOwned(this.registry, (r) => {
      for (const spec of counterSpecs(counters)) mirror(r, spec);
      return new Histogram({
        name: 'quorate_api_request_duration_seconds',
        help: 'API requests by operation (the route) and outcome (ok, client_error, unavailable, server_error), until the response ended.',
        labelNames: ['op', 'outcome'] as const,
        buckets: requestBuckets,
        registers: [r],
      });
    });
  }

  /**
   * Time one request until its response closes; `operation` is read then: the route's handler
   * name once the dispatch matched one (`unknown` for no route), so the route is matched once.
   */
  observe(response: ServerResponse, operation: () => string): void {
    const startedMs = performance.now();
    response.once('close', () => {
      const labels = { op: operation(), outcome: outcomeOf(response.statusCode) };
      this.owned.series.observe(labels, (performance.now() - startedMs) / 1000);
    });
  }

  /** Take the API's series out of the registry (the API is closing). */
  close(): void {
    this.owned.unregister();
  }
}
