/**
 * The HTTP API server (node:http) over one node's KvService. It owns its listening socket,
 * every connection and every watch stream, and close() ends them all. Each request goes
 * through dispatch(): route, run the handler, and turn whatever it throws into a JSON error
 * with errorReply(), so bad input never crashes the process or leaks a stack trace.
 */
import { Buffer } from 'node:buffer';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { KvService } from '../server/index.js';
import { QuorateError } from '../util/errors.js';
import { Authenticator } from './authenticate.js';
import { ApiError, errorReply } from './errors.js';
import { parseUrl } from './request.js';
import { matchRoute } from './routes.js';
import { defaultWatchStreamOptions, WatchHub, type WatchStreamOptions } from './watch-hub.js';

export interface ApiServerOptions {
  readonly host: string;
  /** 0 picks a free port; read it back from `address`. */
  readonly port: number;
  /** Time allowed to receive a whole request, headers and body; slower clients are cut off. */
  readonly requestTimeoutMs?: number;
  /** How often watch streams send progress lines, and how far a slow reader may fall behind. */
  readonly watch?: Partial<WatchStreamOptions>;
  /** Where unexpected errors go; standard error by default. */
  readonly log?: (message: string) => void;
  /**
   * Serve HTTPS with this certificate (the node's, from the cluster CA); plain HTTP without.
   * With `caPem`, clients may also present a certificate from that CA (agents do: mutual TLS);
   * clients without one are served as before.
   */
  readonly tls?: { readonly certPem: string; readonly keyPem: string; readonly caPem?: string };
}

export interface ApiServer {
  readonly address: { readonly host: string; readonly port: number };
  /** `http://host:port` or `https://host:port`, for clients. */
  readonly url: string;
  /** Stop listening and close every connection, watch streams included. */
  close(): Promise<void>;
}

const defaultRequestTimeoutMs = 30_000;

function logToStderr(message: string): void {
  process.stderr.write(`quorate api: ${message}\n`);
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

async function dispatch(service: KvService, watches: WatchHub, auth: Authenticator, log: (message: string) => void, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const method = request.method ?? 'GET';
  try {
    const { path, query } = parseUrl(request.url ?? '/');
    const match = matchRoute(method, path);
    if (match.kind === 'notFound') throw new ApiError('not_found', `no such route: ${path}`);
    if (match.kind === 'wrongMethod') {
      response.setHeader('allow', match.allowed.join(', '));
      throw new ApiError('method_not_allowed', `${method} is not allowed here (allowed: ${match.allowed.join(', ')})`);
    }
    const principal = auth.check(request, match.access);
    const reply = await match.handler({ service, request, response, query, captures: match.captures, watches, principal });
    if (reply !== null) sendJson(response, reply.status, reply.body);
  } catch (error) {
    const reply = errorReply(error, log);
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
  const log = options.log ?? logToStderr;
  const watches = new WatchHub({ ...defaultWatchStreamOptions, ...options.watch }, log);
  const requestTimeoutMs = options.requestTimeoutMs ?? defaultRequestTimeoutMs;
  // headersTimeout may not exceed requestTimeout; Node checks both on the same timer.
  const timeouts = { requestTimeout: requestTimeoutMs, headersTimeout: requestTimeoutMs };
  const auth = new Authenticator(service);
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    void dispatch(service, watches, auth, log, request, response);
  };
  const tls = options.tls;
  const server: Server = tls === undefined ? createServer(timeouts, handler) : createTlsServer(
          { ...timeouts, cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.2', ...(tls.caPem === undefined ? {} : { ca: tls.caPem, requestCert: true, rejectUnauthorized: false }) },
          handler,
        );
  const address = await listen(server, options.host, options.port);
  let closing: Promise<void> | null = null;
  return {
    address: { host: address.address, port: address.port },
    url: `${tls === undefined ? 'http' : 'https'}://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    close() {
      closing ??= new Promise((resolve) => {
        watches.closeAll();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
