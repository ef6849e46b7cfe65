/** What a route handler receives and returns. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { KvService, Principal } from '../server/index.js';
import { assert } from '../util/assert.js';
import type { LeaseLedger } from './lease-ledger.js';
import type { Query } from './request.js';
import type { ApiCountersJson } from './wire.js';
import type { WatchHub } from './watch-hub.js';

export interface Reply {
  readonly status: number;
  readonly body: object;
}

export interface RequestContext {
  readonly service: KvService;
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly query: Query;
  /** The route pattern's captured path segments, still percent-encoded. */
  readonly captures: readonly string[];
  readonly watches: WatchHub;
  readonly leases: LeaseLedger;
  /** The API's own counters, for GET /v1/status. */
  readonly counters: () => ApiCountersJson;
  /** The node's metrics registry, for GET /metrics. */
  readonly metrics: Registry;
  /** Who sent the request (null on public routes): handlers of KV routes check its key prefix. */
  readonly principal: Principal | null;
}

/** Answers with a Reply, or with null after taking over the response itself (a watch stream). */
export type Handler = (context: RequestContext) => Promise<Reply | null>;

/** The principal of a route that needs a token: the router checked it, so null here is a bug. */
export function caller(context: RequestContext): Principal {
  assert(context.principal !== null, 'a route that needs a token ran without a principal');
  return context.principal;
}

export function ok(body: object): Reply {
  return { status: 200, body };
}
