/**
 * The sending side towards one peer: a bounded queue of raft messages flushed once per turn of
 * the event loop in frames of about 1 MiB (a backlog one frame per drain of the socket), one
 * outbound connection kept up, a reconnect loop with exponential backoff and jitter,
 * and at most one snapshot stream at a time.
 *
 * States: dialing -> connected; any close leads to backoff, during which messages are dropped
 * (Raft retries them) and requests fail at once, then dialing again. The connection is dialed
 * as soon as the peer is known (constructed) and redialed whenever it is lost, whether or not
 * anything waits to go: followers send each other nothing until an election, and an election
 * whose first pre-vote waits for a TCP and TLS handshake (7-22 ms measured between loaded
 * loopback nodes) loses that time in every failover; worse, two pre-candidates that started a
 * tick apart no longer see each other in time to break their tie (see losesPreVoteTie in the
 * core), split the vote and wait a whole new election timeout. etcd keeps its peer streams up
 * the same way.
 */
import { performance } from 'node:perf_hooks';
import type { Message } from '../raft/index.js';
import { QuorateError, isQuorateError } from '../util/errors.js';
import type { HostPort } from './address.js';
import type { Connection, ConnectionEvents } from './connection.js';
import type { TransportLimits } from './limits.js';
import type { TransportLog } from './log.js';
import { messageBytes } from './message-codec.js';
import { streamSnapshot } from './snapshot-stream.js';

/**
 * What one raft frame carries at most, unless a single message is larger: one full MsgApp
 * (appendBytesMax), some 10 ms of encoding, so a backlog is encoded a frame per drain of the
 * socket with turns of the event loop (ticks, heartbeats) in between.
 */
const frameBudgetBytes = 1024 * 1024;

export type PeerDial = (address: HostPort, expectedNodeId: string, events: Omit<ConnectionEvents, 'frame'>) => Connection;

export interface PeerCounters {
  /** Connection attempts, successful or not. */
  dials: number;
  framesSent: number;
  messagesSent: number;
  /** Messages dropped because the queue was at queueMessagesMax or queueBytesMax. */
  droppedQueueFull: number;
  /** Messages dropped while there was no connection, or lost in a connection that closed. */
  droppedDisconnected: number;
  /** Messages dropped because one alone exceeds frameBytesMax. */
  droppedTooLarge: number;
}

interface ConnectWaiter {
  readonly resolve: (conn: Connection) => void;
  readonly reject: (error: Error) => void;
}

export class Peer {
  readonly counters: PeerCounters = { dials: 0, framesSent: 0, messagesSent: 0, droppedQueueFull: 0, droppedDisconnected: 0, droppedTooLarge: 0 };
  private state: 'dialing' | 'connected' | 'backoff' | 'closed' = 'dialing';
  private conn: Connection | null = null;
  private connectedAt = 0;
  private queue: Message[] = [];
  private queueBytes = 0;
  private flushImmediate: NodeJS.Immediate | null = null;
  private backoffTimer: NodeJS.Timeout | null = null;
  /** Dials that failed (or connections that died young) in a row; sets the next delay. */
  private failures = 0;
  private connectWaiters: ConnectWaiter[] = [];
  /** Why the last connection or dial ended, for requests refused during the backoff after it. */
  private lastFailure = 'not connected';
  private snapshotWaiting: Message | null = null;
  private streaming = false;
  private nextStream = 1;

  constructor(
    readonly nodeId: string,
    /** As configured (`host:port`), for status output. */
    readonly address: string,
    private readonly hostPort: HostPort,
    private readonly limits: TransportLimits,
    private readonly log: TransportLog,
    private readonly dial: PeerDial,
    private readonly snapshotStatus: (ok: boolean) => void,
  ) {
    this.connect();
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  enqueue(m: Message): void {
    if (m.type === 'MsgSnap' && m.snapshot !== null) {
      this.enqueueSnapshot(m);
      return;
    }
    if (this.state === 'backoff' || this.state === 'closed') {
      this.counters.droppedDisconnected++;
      return;
    }
    const bytes = messageBytes(m);
    if (this.queue.length >= this.limits.queueMessagesMax || this.queueBytes + bytes > this.limits.queueBytesMax) {
      this.counters.droppedQueueFull++;
      return;
    }
    this.queue.push(m);
    this.queueBytes += bytes;
    if (this.state === 'connected') this.scheduleFlush();
  }

  /**
   * The established connection, or the dial under way; rejects `unreachable` if that dial fails,
   * and at once while the peer is backing off after a failure. A request waiting for the next
   * dial would wait for the backoff (up to reconnectDelayMsMax): after a leader was killed, a
   * write forwarded to it stalled for hundreds of milliseconds after its successor was elected,
   * where failing lets the caller look for the leader again (leader-route.ts, every 20 ms).
   */
  connection(): Promise<Connection> {
    if (this.state === 'connected' && this.conn !== null) return Promise.resolve(this.conn);
    if (this.state === 'closed') return Promise.reject(new QuorateError('unreachable', `node "${this.nodeId}" is no longer a peer`));
    if (this.state === 'backoff') return Promise.reject(new QuorateError('unreachable', `cannot reach node "${this.nodeId}" at ${this.address}: ${this.lastFailure}`));
    return new Promise<Connection>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
  }

  /** Stop for good: the peer was removed or the transport is closing; waiting requests get `error`. */
  close(error: QuorateError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.flushImmediate !== null) clearImmediate(this.flushImmediate);
    if (this.backoffTimer !== null) clearTimeout(this.backoffTimer);
    this.flushImmediate = null;
    this.backoffTimer = null;
    this.queue = [];
    this.queueBytes = 0;
    this.snapshotWaiting = null;
    this.rejectWaiters(error);
    this.conn?.close(error.message);
    this.conn = null;
  }

  private enqueueSnapshot(m: Message): void {
    if (this.state === 'backoff' || this.state === 'closed') {
      this.counters.droppedDisconnected++;
      this.reportSnapshot(false);
      return;
    }
    // A newer snapshot supersedes one that has not started streaming yet.
    if (this.snapshotWaiting !== null) this.reportSnapshot(false);
    this.snapshotWaiting = m;
    if (this.state === 'connected') this.startStream();
  }

  private startStream(): void {
    const m = this.snapshotWaiting;
    const conn = this.conn;
    if (m === null || conn === null || this.state !== 'connected' || this.streaming) return;
    this.snapshotWaiting = null;
    this.streaming = true;
    const stream = this.nextStream++;
    const done = (ok: boolean, detail: string): void => {
      this.streaming = false;
      this.log(ok ? 'debug' : 'warn', `snapshot stream ${stream} to node "${this.nodeId}" ${detail}`, { peer: this.nodeId });
      this.reportSnapshot(ok);
      this.startStream();
    };
    streamSnapshot(conn, m, stream, this.limits, () => this.counters.framesSent++).then(
      (bytes) => done(true, `sent ${bytes} bytes`),
      (error: unknown) => done(false, `broke: ${error instanceof Error ? error.message : String(error)}`),
    );
  }

  /** Deferred, so that a status never reaches the caller of send() inside send(). */
  private reportSnapshot(ok: boolean): void {
    queueMicrotask(() => {
      if (this.state !== 'closed') this.snapshotStatus(ok);
    });
  }

  private connect(): void {
    this.state = 'dialing';
    this.counters.dials++;
    this.conn = this.dial(this.hostPort, this.nodeId, {
      established: (conn) => this.onEstablished(conn),
      drain: () => this.flush(),
      closed: (conn) => this.onClosed(conn),
    });
  }

  private onEstablished(conn: Connection): void {
    if (conn !== this.conn || this.state !== 'dialing') return;
    this.state = 'connected';
    this.connectedAt = performance.now();
    this.log('info', `connected to node "${this.nodeId}" at ${this.address}`, { peer: this.nodeId });
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const waiter of waiters) waiter.resolve(conn);
    this.scheduleFlush();
    this.startStream();
  }

  private onClosed(conn: Connection): void {
    if (conn !== this.conn || this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.conn = null;
    this.counters.droppedDisconnected += this.queue.length;
    this.queue = [];
    this.queueBytes = 0;
    if (this.snapshotWaiting !== null) this.reportSnapshot(false);
    this.snapshotWaiting = null;
    // Only a connection that lasted resets the backoff; one that keeps dying young (a peer
    // that accepts and then refuses us) must not be redialed every reconnectDelayMs.
    if (wasConnected && performance.now() - this.connectedAt >= this.limits.reconnectDelayMsMax) this.failures = 0;
    const reason = conn.closeReason ?? 'closed';
    this.lastFailure = reason;
    if (wasConnected) {
      this.log('info', `lost the connection to node "${this.nodeId}": ${reason}`, { peer: this.nodeId });
    } else {
      this.log(this.failures === 0 ? 'warn' : 'debug', `cannot reach node "${this.nodeId}" at ${this.address}: ${reason}`, { peer: this.nodeId, failures: this.failures + 1 });
      this.rejectWaiters(new QuorateError('unreachable', `cannot reach node "${this.nodeId}" at ${this.address}: ${reason}`));
    }
    this.backoff();
  }

  private backoff(): void {
    const { reconnectDelayMs, reconnectDelayMsMax } = this.limits;
    const delayMs = Math.min(reconnectDelayMs * 2 ** Math.min(this.failures, 30), reconnectDelayMsMax);
    this.failures++;
    this.state = 'backoff';
    // Jitter keeps the nodes of a cluster that lost a peer together from redialing in step.
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      this.connect();
    }, delayMs * (0.5 + Math.random() * 0.5));
  }

  private rejectWaiters(error: Error): void {
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  private scheduleFlush(): void {
    this.flushImmediate ??= setImmediate(() => {
      this.flushImmediate = null;
      this.flush();
    });
  }

  /**
   * Send what is queued in frames of about frameBudgetBytes while the socket has room; the
   * rest waits for its drain. Everything at once was one synchronous encoding of up to the
   * core's in-flight window (32 MiB of entries for a learner catching up after a snapshot):
   * half a second without heartbeats on a busy leader, which lost its leadership over it, and
   * so did each leader after it.
   */
  private flush(): void {
    const conn = this.conn;
    if (this.state !== 'connected' || conn === null) return;
    while (this.queue.length > 0 && !conn.needsDrain) this.writeBatch(conn, this.takeFrame());
  }

  /** The queued messages that fit frameBudgetBytes (at least one), taken off the queue. */
  private takeFrame(): Message[] {
    let count = 0;
    let bytes = 0;
    for (const m of this.queue) {
      const size = messageBytes(m);
      if (count > 0 && bytes + size > frameBudgetBytes) break;
      count++;
      bytes += size;
    }
    const frame = this.queue.splice(0, count);
    this.queueBytes -= bytes;
    return frame;
  }

  /** A batch over frameBytesMax is split in halves; a single message over it is dropped. */
  private writeBatch(conn: Connection, messages: readonly Message[]): void {
    try {
      conn.send({ kind: 'raft', messages });
      this.counters.framesSent++;
      this.counters.messagesSent += messages.length;
    } catch (error) {
      if (isQuorateError(error, 'frame_too_large') && messages.length > 1) {
        const half = Math.ceil(messages.length / 2);
        this.writeBatch(conn, messages.slice(0, half));
        this.writeBatch(conn, messages.slice(half));
      } else if (isQuorateError(error, 'frame_too_large')) {
        this.counters.droppedTooLarge++;
        this.log('error', `dropped a ${messages[0]?.type ?? ''} message to node "${this.nodeId}": ${error.message}`, { peer: this.nodeId });
      } else if (isQuorateError(error, 'unreachable')) {
        this.counters.droppedDisconnected += messages.length;
      } else {
        throw error;
      }
    }
  }
}
