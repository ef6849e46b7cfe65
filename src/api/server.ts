/**
 * The HTTP API server (node:http) over one node's KvService. It owns its listening socket,
 * every connection and every watch stream, and close() ends them all. Each request goes
 * through dispatch(): route, run the handler, and turn whatever it throws into a JSON error
 * with errorReply(), so bad input never crashes the process or leaks a stack trace.
 *
 * Greedy and slow clients meet limits (issue 9): open connections in total and per address
 * (connection-limits.ts), watch streams and live leases per principal (watch-hub.ts,
 * lease-ledger.ts), a watch reader that falls too far behind is cut off, and a request must
 * arrive whole within requestTimeoutMs. Each refusal is counted in GET /v1/status's `api`.
 */
import { Buffer } from 'node:buffer';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, Server as TlsServer } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { KvService } from '../server/index.js';
import { QuorateError } from '../util/errors.js';
import { stderrLogger, withFields, type Logger } from '../util/log.js';
import { Authenticator } from './authenticate.js';
import { ConnectionGate, defaultConnectionLimits, type ConnectionLimits } from './connection-limits.js';
import { ApiError, errorReply } from './errors.js';
import { defaultLeasesPerPrincipalMax, LeaseLedger } from './lease-ledger.js';
import { parseUrl } from './request.js';
import { requestIdFor, requestIdHeader } from './request-id.js';
import { RequestMetrics } from './request-metrics.js';
import { matchRoute } from './routes.js';
import { defaultWatchStreamOptions, WatchHub, type WatchStreamOptions } from './watch-hub.js';
import type { ApiCountersJson } from './wire.js';

export interface ApiServerOptions {
  readonly host: string;
  /** 0 picks a free port; read it back from `address`. */
  readonly port: number;
  /** Time allowed to receive a whole request, headers and body; slower clients are cut off. */
  readonly requestTimeoutMs?: number;
  /** Open connections at most: in total (4096) and from one remote address (1024). */
  readonly connections?: Partial<ConnectionLimits>;
  /**
   * How often watch streams send progress lines, how far a slow reader may fall behind (8 MiB),
   * and how many streams one principal may hold open (1000).
   */
  readonly watch?: Partial<WatchStreamOptions>;
  /** Live leases one principal may hold through this node (10,000; see lease-ledger.ts). */
  readonly leasesPerPrincipalMax?: number;
  /**
   * Where unexpected errors, dropped watch streams and (at debug level) one line per request go,
   * each with the request's id; standard error by default.
   */
  readonly log?: Logger;
  /**
   * Serve HTTPS with this certificate (the node's, from the cluster CA); plain HTTP without.
   * With `caPem`, clients may also present a certificate from that CA (agents do: mutual TLS);
   * clients without one are served as before.
   */
  readonly tls?: ApiTls;
  /**
   * The node's metrics registry (ServerNode.metrics.registry): GET /metrics serves it, and the
   * API adds its own series to it (request-metrics.ts). Without one, /metrics shows only those.
   */
  readonly metrics?: Registry;
}

export interface ApiTls {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem?: string;
}

function tlsOptions(tls: ApiTls): SecureContextOptions & { requestCert?: boolean; rejectUnauthorized?: boolean } {
  return { cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.2', ...(tls.caPem === undefined ? {} : { ca: tls.caPem, requestCert: true, rejectUnauthorized: false }) };
}

export interface ApiServer {
  readonly address: { readonly host: string; readonly port: number };
  /** `http://host:port` or `https://host:port`, for clients. */
  readonly url: string;
  /**
   * Serve a renewed certificate (or trust a new CA bundle for client certificates) on new
   * connections; a plain-HTTP server ignores it.
   */
  updateTls(tls: ApiTls): void;
  /** Stop listening and close every connection, watch streams included. */
  close(): Promise<void>;
}

const defaultRequestTimeoutMs = 30_000;
/** How often Node looks for requests past their timeout; its default (30 s) would double a 30 s allowance. */
const timeoutCheckIntervalMsMax = 1000;

/** What every request may use: the service, the per-principal limits and the server's counters. */
interface ApiParts {
  readonly service: KvService;
  readonly watches: WatchHub;
  readonly leases: LeaseLedger;
  readonly auth: Authenticator;
  readonly counters: () => ApiCountersJson;
  readonly metrics: Registry;
  readonly requests: RequestMetrics;
  readonly log: Logger;
}

function sendJson(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function hasUnreadBody(request: IncomingMessage): boolean {
  const { 'content-length': length, 'transfer-encoding': encoding } = request.headers;
  return (encoding !== undefined || (length !== undefined && length !== '0')) && !request.complete;
}

/** Long enough for any route; a longer path is cut in the access line rather than bloating the log. */
const loggedPathCharsMax = 256;

/**
 * One debug line per request once its response ends. Only the path: the query string may
 * carry key names and values, and no header is logged (Authorization holds the token).
 */
function logWhenDone(log: Logger, request: IncomingMessage, response: ServerResponse, method: string): void {
  const startedAt = performance.now();
  const path = (request.url ?? '/').split('?', 1)[0]?.slice(0, loggedPathCharsMax) ?? '/';
  response.once('close', () => {
    const durationMs = Math.round((performance.now() - startedAt) * 10) / 10;
    log.log('debug', 'request', { method, path, status: response.statusCode, durationMs, ...(response.writableFinished ? {} : { aborted: true }) });
  });
}

async function dispatch(parts: ApiParts, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { service, watches, leases, auth, counters, metrics } = parts;
  const method = request.method ?? 'GET';
  const requestId = requestIdFor(request.headers[requestIdHeader]);
  response.setHeader(requestIdHeader, requestId);
  const log = withFields(parts.log, () => ({ requestId }));
  logWhenDone(log, request, response, method);
  let operation = 'unknown';
  parts.requests.observe(response, () => operation);
  try {
    const { path, query } = parseUrl(request.url ?? '/');
    const match = matchRoute(method, path);
    if (match.kind === 'notFound') throw new ApiError('not_found', `no such route: ${path}`);
    if (match.kind === 'wrongMethod') {
      response.setHeader('allow', match.allowed.join(', '));
      throw new ApiError('method_not_allowed', `${method} is not allowed here (allowed: ${match.allowed.join(', ')})`);
    }
    if (match.handler.name !== '') operation = match.handler.name;
    const principal = auth.check(request, match.access);
    const reply = await match.handler({ service, request, response, query, captures: match.captures, watches, leases, counters, metrics, principal });
    if (reply !== null) sendJson(response, reply.status, reply.body);
  } catch (error) {
    const reply = errorReply(error, (message) => log.log('error', message));
    // A stream that already started cannot turn into an error reply; its client resumes.
    if (response.headersSent) {
      response.destroy();
      return;
    }
    // An unread body (refused as too large, or never needed) is not drained: drop the connection.
    if (hasUnreadBody(request)) response.setHeader('connection', 'close');
    sendJson(response, reply.status, reply.body);
  }
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(new QuorateError('listen_failed', `the API cannot listen on ${host}:${port}: ${error.message}`));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startApiServer(service: KvService, options: ApiServerOptions): Promise<ApiServer> {
  const log = options.log ?? stderrLogger({});
  const watches = new WatchHub({ ...defaultWatchStreamOptions, ...options.watch }, (message) => log.log('warn', message));
  const leases = new LeaseLedger(service, options.leasesPerPrincipalMax ?? defaultLeasesPerPrincipalMax);
  const requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
  // headersTimeout may not exceed requestTimeout; Node checks both on the same timer.
  const timeouts = { requestTimeout: requestTimeoutMs, headersTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(requestTimeoutMs, timeoutCheckIntervalMsMax) };
  const auth = new Authenticator(service);
  const tls = options.tls;
  const server: Server = tls === undefined ? createServer(timeouts) : createTlsServer({ ...timeouts, ...tlsOptions(tls) });
  const gate = new ConnectionGate(server, { ...defaultConnectionLimits, ...options.connections });
  const counters = (): ApiCountersJson => ({ connections: gate.counts(), authFailures: auth.refusalCounts(), watches: watches.counts(), leases: leases.counts() });
  const requests = new RequestMetrics(options.metrics, counters);
  const parts: ApiParts = { service, watches, leases, auth, counters, metrics: requests.registry, requests, log };
  server.on('request', (request: IncomingMessage, response: ServerResponse) => void dispatch(parts, request, response));
  const address = await listen(server, options.host, options.port);
  let closing: Promise<void> | null = null;
  return {
    address: { host: address.address, port: address.port },
    url: `${tls === undefined ? 'http' : 'https'}://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    updateTls(renewed) {
      if (server instanceof TlsServer) server.setSecureContext(tlsOptions(renewed));
    },
    close() {
      closing ??= new Promise((resolve) => {
        watches.closeAll();
        requests.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
