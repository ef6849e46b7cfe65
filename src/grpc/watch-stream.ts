/**
 * One Watch stream: many watches, each fed by a service.watch subscription, multiplexed by
 * watch_id onto one bidirectional call. Responses are written without waiting for the reader
 * (the subscriptions call in from the node's apply path, which must never block on a client),
 * so a reader that falls `bufferedMessagesMax` responses behind is cut off with UNAVAILABLE and
 * resumes, as etcd clients do, from the revision after the last one it got.
 *
 * Ordering follows etcd: a create is answered with `created` before any of its events; a
 * start revision that is compacted gets `created`, then `canceled` with `compact_revision`.
 * Progress: a watch with progress_notify gets an empty response at the current revision every
 * `progressIntervalMs` when the stream sent nothing else since the last one; a
 * WatchProgressRequest gets one at once, with watch_id -1 (meaning the whole stream), as in
 * etcd 3.4. Since watches are fed synchronously as entries apply, every event up to a progress
 * response's revision was sent before it.
 */
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { Principal } from '../server/index.js';
import type { Disposable, KvEvent } from '../state/index.js';
import type { GrpcContext } from './context.js';
import { etcdErrors, GrpcError } from './errors.js';
import { int64 } from './int64.js';
import { keyValueMessage } from './key-value.js';
import type { EventMessage, WatchCreateRequestMessage, WatchRequestMessage, WatchResponseMessage } from './messages.js';

export interface WatchOptions {
  /** How often a watch with progress_notify hears the revision when idle (etcd: 10 minutes). */
  readonly progressIntervalMs: number;
  /** Responses a slow reader may leave unread before its stream is cut off. */
  readonly bufferedMessagesMax: number;
  /** Watches one stream may hold; a client that needs more watches a common prefix. */
  readonly watchesPerStreamMax: number;
}

export const defaultWatchOptions: WatchOptions = { progressIntervalMs: 10 * 60 * 1000, bufferedMessagesMax: 10_000, watchesPerStreamMax: 1000 };

/** etcd's watch_id for a response about the whole stream rather than one watch. */
const streamWideId = -1;

interface Watch {
  readonly subscription: Disposable;
  readonly progressNotify: boolean;
}

type WatchCall = ServerDuplexStream<WatchRequestMessage, WatchResponseMessage>;

function eventMessage(event: KvEvent, withPrev: boolean): EventMessage {
  const base = { type: event.type === 'put' ? ('PUT' as const) : ('DELETE' as const), kv: keyValueMessage(event.kv) };
  return withPrev && event.prevKv !== undefined ? { ...base, prev_kv: keyValueMessage(event.prevKv) } : base;
}

export class WatchStream {
  private readonly watches = new Map<number, Watch>();
  private nextId = 0;
  private sentSinceProgress = false;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  /** Serve `call` until the client ends it or the server closes. */
  static open(context: GrpcContext, call: WatchCall, principal: Principal, options: WatchOptions): void {
    new WatchStream(context, call, principal, options).listen();
  }

  private constructor(
    private readonly context: GrpcContext,
    private readonly call: WatchCall,
    private readonly principal: Principal,
    private readonly options: WatchOptions,
  ) {
    this.timer = setInterval(() => this.progressTick(), options.progressIntervalMs);
  }

  private listen(): void {
    this.call.on('data', (request: WatchRequestMessage) => this.receive(request));
    this.call.on('end', () => this.close(null));
    this.call.on('cancelled', () => this.close(null));
    this.call.on('error', () => this.close(null));
  }

  private receive(request: WatchRequestMessage): void {
    try {
      if (request.request_union === 'create_request' && request.create_request) this.create(request.create_request);
      else if (request.request_union === 'cancel_request' && request.cancel_request) this.cancel(int64(request.cancel_request.watch_id, 'watch_id'));
      else if (request.request_union === 'progress_request') this.send({ header: this.context.header(), watch_id: streamWideId });
    } catch (error) {
      this.close(this.context.failure(error));
    }
  }

  private create(request: WatchCreateRequestMessage): void {
    const rangeEnd = request.range_end.byteLength === 0 ? undefined : request.range_end;
    this.context.auth.allowKeys(this.principal, request.key, rangeEnd);
    const asked = int64(request.watch_id, 'watch_id');
    const id = asked === 0 ? this.freeId() : asked;
    const refusal = this.watches.has(id)
      ? `etcdserver: watch_id ${id} is already in use on this stream`
      : this.watches.size >= this.options.watchesPerStreamMax
        ? `etcdserver: a stream holds at most ${this.options.watchesPerStreamMax} watches (watchesPerStreamMax); watch a common prefix instead`
        : null;
    if (refusal !== null) {
      this.send({ header: this.context.header(), watch_id: id, created: true, canceled: true, cancel_reason: refusal });
      return;
    }
    this.send({ header: this.context.header(), watch_id: id, created: true });
    const withPrev = request.prev_kv;
    const noPut = request.filters.includes('NOPUT');
    const noDelete = request.filters.includes('NODELETE');
    const deliver = (events: readonly KvEvent[]): void => {
      const kept = events.filter((event) => (event.type === 'put' ? !noPut : !noDelete));
      if (kept.length > 0) this.send({ header: this.context.header(), watch_id: id, events: kept.map((event) => eventMessage(event, withPrev)) });
    };
    const from = Math.max(0, int64(request.start_revision, 'start_revision'));
    const subscription = this.context.service().watch(from, request.key, rangeEnd, deliver, (compactRevision) => this.compacted(id, compactRevision));
    if ('ok' in subscription) {
      if (subscription.code !== 'compacted') throw subscription.code === 'empty_key' ? etcdErrors.emptyKey() : new GrpcError(status.INVALID_ARGUMENT, subscription.message);
      this.compacted(id, this.context.node().state.kv.compactRevision);
      return;
    }
    this.watches.set(id, { subscription, progressNotify: request.progress_notify });
  }

  private freeId(): number {
    while (this.watches.has(this.nextId)) this.nextId++;
    return this.nextId++;
  }

  private compacted(id: number, compactRevision: number): void {
    this.watches.get(id)?.subscription.dispose();
    this.watches.delete(id);
    this.send({ header: this.context.header(), watch_id: id, canceled: true, compact_revision: compactRevision, cancel_reason: etcdErrors.compacted().details });
  }

  private cancel(id: number): void {
    const watch = this.watches.get(id);
    if (watch === undefined) return;
    watch.subscription.dispose();
    this.watches.delete(id);
    this.send({ header: this.context.header(), watch_id: id, canceled: true });
  }

  private progressTick(): void {
    const idle = !this.sentSinceProgress;
    this.sentSinceProgress = false;
    if (!idle) return;
    for (const [id, watch] of this.watches) if (watch.progressNotify) this.send({ header: this.context.header(), watch_id: id });
    this.sentSinceProgress = false;
  }

  /** Called from the apply path too: never throws, never waits. */
  private send(response: WatchResponseMessage): void {
    if (this.closed) return;
    this.sentSinceProgress = true;
    this.call.write(response);
    if (this.call.writableLength > this.options.bufferedMessagesMax) {
      this.context.log.log('warn', `etcd API: closing a watch stream whose client is more than ${this.options.bufferedMessagesMax} responses behind (bufferedMessagesMax)`);
      this.close(new GrpcError(status.UNAVAILABLE, 'etcdserver: watch stream closed: the client fell too far behind; resume from the last revision received'));
    }
  }

  /** Release every subscription and the timer; end the call with `error`'s status, or OK. */
  private close(error: GrpcError | null): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const watch of this.watches.values()) watch.subscription.dispose();
    this.watches.clear();
    // grpc-js sends an 'error' event's status after the responses already queued.
    if (error !== null) this.call.emit('error', error);
    else if (!this.call.writableEnded) this.call.end();
  }
}
