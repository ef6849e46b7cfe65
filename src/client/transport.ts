/**
 * HTTP requests to a list of endpoints, over node:http (not fetch: fetch's URL parser would
 * resolve "." and ".." inside percent-encoded keys, and it hides whether a connection was ever
 * made, which decides whether a request may be sent again).
 *
 * An endpoint that refuses the connection, cannot be reached, or does not connect within
 * `connectTimeoutMs` is skipped for the next one: nothing was sent. A connection that breaks
 * after the request went out is retried elsewhere only for reads; for a write it is reported
 * as outcome_unknown, since the write may have been applied. An HTTP error status is an
 * answer, never a reason to try another endpoint. Each request uses its own connection (no
 * keep-alive), so the client holds no sockets between requests and needs no closing.
 */
import { Buffer } from 'node:buffer';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { QuorateClientError } from './errors.js';

export interface Endpoint {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** https: the server must present a certificate the client's CA signed for this host. */
  readonly secure: boolean;
}

export interface ConnectOptions {
  readonly connectTimeoutMs: number;
  /** The CA (PEM) that https endpoints' certificates must chain to; the system's CAs when absent. */
  readonly ca?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
}

export interface HttpCall {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path and query, already percent-encoded. */
  readonly path: string;
  readonly body?: Uint8Array | string;
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: Buffer;
}

/** A list answer may hold rangeResultsMax values; this bounds what the client will buffer. */
export const responseBytesMax = 256 * 1024 * 1024;

export function parseEndpoint(text: string): Endpoint {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new QuorateClientError('bad_endpoint', `endpoint "${text}" is not a URL (expected e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new QuorateClientError('bad_endpoint', `endpoint "${text}" must start with http:// or https://`);
  const secure = url.protocol === 'https:';
  // URL keeps IPv6 brackets in hostname; node:http wants the bare address.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { url: `${url.protocol}//${url.host}`, host, port: url.port === '' ? (secure ? 443 : 80) : Number(url.port), secure };
}

type Attempt =
  | { readonly kind: 'answered'; readonly response: IncomingMessage }
  | { readonly kind: 'unreachable'; readonly reason: string }
  | { readonly kind: 'broken'; readonly reason: string }
  | { readonly kind: 'timeout' };

function describe(error: Error): string {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ENOTFOUND':
      return 'host not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `TLS: the server's certificate is not signed by the trusted CA (${code}); on a node the CLI trusts the CA in its data directory, elsewhere pass --ca-file`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS: the server's certificate is not valid for this address (${error.message})`;
    default:
      return error.message;
  }
}

/** One try on one endpoint, until the response headers arrive. */
function attempt(endpoint: Endpoint, call: HttpCall, options: ConnectOptions, deadline: number): Promise<Attempt> {
  const { connectTimeoutMs } = options;
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    const body = call.body === undefined ? undefined : typeof call.body === 'string' ? Buffer.from(call.body) : call.body;
    const headers: Record<string, string | number> = body === undefined ? {} : { 'content-length': body.byteLength };
    if (typeof call.body === 'string') headers['content-type'] = 'application/json';
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    const target = { host: endpoint.host, port: endpoint.port, method: call.method, path: call.path, agent: false, headers } as const;
    const request = endpoint.secure ? httpsRequest({ ...target, ...(options.ca === undefined ? {} : { ca: options.ca }) }) : httpRequest(target);
    const settle = (outcome: Attempt): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(requestTimer);
      if (outcome.kind !== 'answered') request.destroy();
      resolve(outcome);
    };
    const connectTimer = setTimeout(() => settle({ kind: 'unreachable', reason: `no connection within ${connectTimeoutMs} ms` }), connectTimeoutMs);
    const requestTimer = setTimeout(() => settle(connected ? { kind: 'timeout' } : { kind: 'unreachable', reason: 'no connection before the request timed out' }), Math.max(0, deadline - Date.now()));
    // Over TLS nothing is sent before the handshake succeeds: a certificate the client
    // refuses makes the endpoint unreachable, never a write of unknown outcome.
    request.on('socket', (socket) => {
      socket.once(endpoint.secure ? 'secureConnect' : 'connect', () => {
        connected = true;
        clearTimeout(connectTimer);
      });
    });
    request.on('response', (response) => settle({ kind: 'answered', response }));
    // Also after an answer: a server that refuses a large body answers and closes (EPIPE here).
    request.on('error', (error) => settle(connected ? { kind: 'broken', reason: describe(error) } : { kind: 'unreachable', reason: describe(error) }));
    request.end(body);
  });
}

export class Endpoints {
  /** Where the next request starts: the last endpoint that answered. */
  private preferred = 0;

  constructor(
    private readonly list: readonly Endpoint[],
    private readonly options: ConnectOptions,
  ) {}

  /** The answer's headers, from the first endpoint that accepts the connection. */
  async open(call: HttpCall, timeoutMs: number): Promise<{ readonly response: IncomingMessage; readonly endpoint: Endpoint }> {
    const deadline = Date.now() + timeoutMs;
    const failures: string[] = [];
    for (let i = 0; i < this.list.length; i++) {
      const index = (this.preferred + i) % this.list.length;
      const endpoint = this.list[index];
      if (endpoint === undefined) continue;
      const outcome = await attempt(endpoint, call, this.options, deadline);
      if (outcome.kind === 'answered') {
        this.preferred = index;
        return { response: outcome.response, endpoint };
      }
      if (outcome.kind === 'timeout') throw new QuorateClientError('timeout', `${endpoint.url} did not answer within ${timeoutMs} ms${call.method === 'GET' ? '' : '; the write may or may not have happened'}`);
      if (outcome.kind === 'broken' && call.method !== 'GET') {
        throw new QuorateClientError('outcome_unknown', `the connection to ${endpoint.url} broke (${outcome.reason}) after the request was sent; the write may or may not have happened`);
      }
      failures.push(`${endpoint.url} (${outcome.reason})`);
    }
    throw new QuorateClientError('unreachable', `no endpoint could be reached; tried ${failures.join(', ')}`);
  }

  /** After a stream from `endpoint` broke: start the next attempt with the endpoint after it. */
  avoid(endpoint: Endpoint): void {
    const index = this.list.indexOf(endpoint);
    if (index === this.preferred) this.preferred = (index + 1) % this.list.length;
  }

  /** A whole answer, read within the same timeout. */
  async send(call: HttpCall, timeoutMs: number): Promise<HttpAnswer> {
    const deadline = Date.now() + timeoutMs;
    const { response, endpoint } = await this.open(call, timeoutMs);
    return { status: response.statusCode ?? 0, body: await readAnswer(response, endpoint, deadline) };
  }
}

export function readAnswer(response: IncomingMessage, endpoint: Endpoint, deadline: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const fail = (error: QuorateClientError): void => {
      clearTimeout(timer);
      response.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new QuorateClientError('timeout', `${endpoint.url} did not finish its answer in time`)), Math.max(0, deadline - Date.now()));
    response.on('data', (chunk: Buffer) => {
      length += chunk.byteLength;
      if (length > responseBytesMax) fail(new QuorateClientError('bad_response', `the answer from ${endpoint.url} exceeds ${responseBytesMax} bytes (responseBytesMax)`));
      else chunks.push(chunk);
    });
    response.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks, length));
    });
    response.on('error', (error) => fail(new QuorateClientError('bad_response', `the answer from ${endpoint.url} was cut short (${error.message})`)));
  });
}
