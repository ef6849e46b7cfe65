/**
 * Requests between nodes: both ends of one request/response exchange.
 *
 * The asking side keeps the requests it waits on. Each waits on the connection it went out
 * on: if that connection closes, the request fails as `unreachable` at once instead of
 * waiting for its timeout (its outcome on the remote is then unknown, and the message says so).
 * The answering side runs the handler and sends its result, or its QuorateError's code and
 * message, back on the same connection.
 */
import { performance } from 'node:perf_hooks';
import { QuorateError, isQuorateError } from '../util/errors.js';
import type { Connection } from './connection.js';
import type { TransportLog } from './log.js';
import type { RequestFrame, ResponseFrame } from './protocol.js';

/** Answers a request from node `from`; a QuorateError it throws reaches the asker with its code. */
export type RequestHandler = (from: string, method: string, body: unknown) => Promise<unknown>;

interface Pending {
  readonly conn: Connection;
  readonly resolve: (body: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class PendingRequests {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly pendingRequestsMax: number) {}

  /** Send a request on `conn` and wait for its response, until `timeoutMs` after `startedAt`. */
  call(conn: Connection, method: string, body: unknown, timeoutMs: number, startedAt: number): Promise<unknown> {
    if (this.pending.size >= this.pendingRequestsMax) {
      return Promise.reject(new QuorateError('overloaded', `${this.pending.size} requests already wait for answers (pendingRequestsMax); try again later`));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(id, new QuorateError('timeout', `${method} to ${conn.peerName}: no answer within ${timeoutMs} ms; it may or may not have been carried out`));
      }, Math.max(0, timeoutMs - (performance.now() - startedAt)));
      this.pending.set(id, { conn, resolve, reject, timer });
      try {
        conn.send({ kind: 'request', id, method, body });
      } catch (error) {
        this.settle(id, error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** A response arrived; one for an unknown id (already timed out) is ignored. */
  answer(conn: Connection, response: ResponseFrame): void {
    if (this.pending.get(response.id)?.conn !== conn) return;
    if (response.ok) this.settle(response.id, null, response.body);
    else this.settle(response.id, new QuorateError(response.code, response.message));
  }

  /**
   * The connection closed: its requests cannot be answered any more. They were sent, so the
   * other side may have carried them out: `OutcomeUnknown`, never `unreachable` (which means
   * "not sent" and lets a forwarded write be sent again). The chaos suite caught a
   * compare-and-swap applied twice that way: the first attempt succeeded, its answer was lost
   * with the connection, and the retry failed its compare.
   */
  failConnection(conn: Connection): void {
    for (const [id, p] of this.pending) {
      if (p.conn !== conn) continue;
      this.settle(id, new QuorateError('OutcomeUnknown', `the connection to ${conn.peerName} closed before the answer arrived (${conn.closeReason ?? 'closed'}); the request may or may not have been carried out`));
    }
  }

  failAll(error: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, error);
  }

  private settle(id: number, error: Error | null, body?: unknown): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (error === null) p.resolve(body);
    else p.reject(error);
  }
}

/** Reject with `onTimeout()` if `promise` has not settled within `timeoutMs`. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export interface ServeContext {
  readonly nodeId: string;
  /** Requests one connection may have this node answer at once. */
  readonly answeringMax: number;
  readonly log: TransportLog;
}

/** Answer one request through `handler`, on the connection it came on. */
export async function serveRequest(conn: Connection, request: RequestFrame, handler: RequestHandler | undefined, context: ServeContext): Promise<void> {
  const from = conn.remoteNodeId ?? '';
  let response: ResponseFrame;
  if (handler === undefined) {
    response = failure(request.id, 'unsupported', `node "${context.nodeId}" answers no requests`);
  } else if (conn.answering >= context.answeringMax) {
    response = failure(request.id, 'overloaded', `node "${context.nodeId}" is already answering ${conn.answering} requests from node "${from}" (pendingRequestsMax)`);
  } else {
    conn.answering++;
    try {
      response = { kind: 'response', id: request.id, ok: true, body: await handler(from, request.method, request.body) };
    } catch (error) {
      response = failureOf(request, error, context);
    } finally {
      conn.answering--;
    }
  }
  // An asker that went away already failed its request as unreachable.
  if (conn.isClosed) return;
  try {
    conn.send(response);
  } catch (error) {
    if (!isQuorateError(error, 'frame_too_large')) throw error;
    conn.send(failure(request.id, 'frame_too_large', `the answer to ${request.method} is too large: ${error.message}`));
  }
}

function failureOf(request: RequestFrame, error: unknown, context: ServeContext): ResponseFrame {
  if (isQuorateError(error)) return failure(request.id, error.code, error.message);
  // Not an expected condition: the asker learns that much, and this node's log has the rest.
  const text = error instanceof Error ? error.message : String(error);
  context.log('error', `answering ${request.method} failed: ${text}`, { method: request.method, error });
  return failure(request.id, 'internal', `node "${context.nodeId}" failed to answer ${request.method}: ${text}`);
}

function failure(id: number, code: string, message: string): ResponseFrame {
  return { kind: 'response', id, ok: false, code, message };
}
