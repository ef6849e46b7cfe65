/**
 * One TLS connection between two nodes, in either direction. It owns its socket and its one
 * timer, turns bytes into frames, runs the hello exchange that ties the connection to a node
 * id, and closes itself when the peer breaks the protocol or falls silent. What the frames
 * mean is the transport's business.
 */
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { assert } from '../util/assert.js';
import { QuorateError, isQuorateError } from '../util/errors.js';
import { formatHostPort } from './address.js';
import { FrameDecoder, encodeFrame, encodeFrameWithTail } from './frame-codec.js';
import type { TransportLimits } from './limits.js';
import type { TransportLog, TransportLogLevel } from './log.js';
import { frameFromWire, frameToWire, helloMismatch, protocolVersion, snapshotChunkHead, type Frame, type HelloFrame } from './protocol.js';
import { protocolError } from './wire-values.js';

export interface ConnectionEvents {
  /** The hello exchange succeeded: `remoteNodeId` is the authenticated peer. */
  established(conn: Connection): void;
  /** A frame after the hello, pings included (they prove the peer is alive). */
  frame(conn: Connection, frame: Exclude<Frame, HelloFrame>): void;
  /** The socket's write buffer emptied after `send` returned false. */
  drain(conn: Connection): void;
  /** Called once, whatever the cause; `closeReason` says it. */
  closed(conn: Connection): void;
}

export interface ConnectionOptions {
  /** A socket still connecting (outbound) or one that completed its TLS handshake (inbound). */
  readonly socket: TLSSocket;
  readonly direction: 'outbound' | 'inbound';
  readonly nodeId: string;
  readonly clusterId: string;
  /** The node an outbound connection must reach; null when only its address is known. */
  readonly expectedNodeId: string | null;
  /** The address dialed (outbound) or connected from (inbound), for logs once the socket is gone. */
  readonly address: string;
  readonly limits: TransportLimits;
  readonly log: TransportLog;
  readonly events: ConnectionEvents;
}

export class Connection {
  remoteNodeId: string | null = null;
  closeReason: string | null = null;
  /** Requests from the peer this node is still answering (bounded by pendingRequestsMax). */
  answering = 0;
  /** Resolves when the socket is closed and its handle released. */
  readonly closed: Promise<void>;
  private state: 'handshake' | 'established' | 'closed' = 'handshake';
  private lastReceivedAt = performance.now();
  private lastSentAt = this.lastReceivedAt;
  /** Writes are being held together until the next tick (corkUntilTick). */
  private corked = false;
  private readonly decoder: FrameDecoder;
  private timer: NodeJS.Timeout;
  private drainWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(private readonly options: ConnectionOptions) {
    const { socket, limits } = options;
    this.decoder = new FrameDecoder(limits.frameBytesMax);
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.close('the connection was closed by the peer or the network', 'debug');
        resolve();
      });
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // Failed dials are summarized by the peer's reconnect loop, so they are not logged twice.
    socket.on('error', (error: Error) => this.close(describeSocketError(error), this.state === 'handshake' && options.direction === 'outbound' ? 'debug' : 'warn'));
    socket.on('drain', () => this.onDrain());
    if (options.direction === 'outbound') socket.once('secureConnect', () => this.sendHello());
    this.timer = setTimeout(() => this.close(`no TLS handshake and hello within dialTimeoutMs (${limits.dialTimeoutMs} ms)`, 'warn'), limits.dialTimeoutMs);
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** The other end as `host:port`, as this node's kernel sees it (while the socket is open). */
  get remoteAddress(): string {
    const { remoteAddress, remotePort } = this.options.socket;
    return remoteAddress === undefined || remotePort === undefined ? this.options.address : formatHostPort(remoteAddress, remotePort);
  }

  /** A name for logs and errors: the node when known, else the address. */
  get peerName(): string {
    const node = this.remoteNodeId ?? this.options.expectedNodeId;
    return node === null ? this.remoteAddress : `node "${node}" (${this.remoteAddress})`;
  }

  /** Whether `send` may write without growing the socket's buffer beyond its high-water mark. */
  get needsDrain(): boolean {
    return this.options.socket.writableNeedDrain;
  }

  /**
   * Write one frame. Returns false when the socket's buffer is full: the caller should wait
   * for `drained()` before sending more. Throws QuorateError `frame_too_large` (nothing is
   * written) or `unreachable` (the connection is closed).
   */
  send(frame: Frame): boolean {
    if (this.state === 'closed') throw new QuorateError('unreachable', `the connection to ${this.peerName} is closed: ${this.closeReason ?? ''}`);
    assert(this.state === 'established' || frame.kind === 'hello', () => `a ${frame.kind} frame sent before the hello exchange`);
    const max = this.options.limits.frameBytesMax;
    const parts = frame.kind === 'snapshot' ? encodeFrameWithTail(snapshotChunkHead(frame), 'data', frame.data, max) : [encodeFrame(frameToWire(frame), max)];
    this.lastSentAt = performance.now();
    this.corkUntilTick();
    let room = true;
    for (const part of parts) room = this.options.socket.write(part);
    return room;
  }

  /**
   * Frames written in one callback and the promise jobs it sets off (the answers to every
   * forwarded write a Ready committed, a peer's raft batch with them) leave as one write: one
   * TLS record and one syscall instead of one each. Uncorking at nextTick adds no delay.
   */
  private corkUntilTick(): void {
    if (this.corked) return;
    const socket = this.options.socket;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  /** Resolves once the socket's buffer has room again; rejects if the connection closes first. */
  drained(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(this.closedError());
    if (!this.needsDrain) return Promise.resolve();
    return new Promise((resolve, reject) => this.drainWaiters.push({ resolve, reject }));
  }

  close(reason: string, level: TransportLogLevel = 'debug'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeReason = reason;
    clearTimeout(this.timer);
    this.options.socket.destroy();
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter.reject(this.closedError());
    this.options.log(level, `connection to ${this.peerName} closed: ${reason}`, { direction: this.options.direction, peer: this.remoteNodeId ?? this.options.expectedNodeId, remote: this.remoteAddress });
    this.options.events.closed(this);
  }

  private closedError(): QuorateError {
    return new QuorateError('unreachable', `the connection to ${this.peerName} closed: ${this.closeReason ?? ''}`);
  }

  private onDrain(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    if (this.state === 'established') this.options.events.drain(this);
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.lastReceivedAt = performance.now();
    try {
      for (const value of this.decoder.push(chunk)) {
        this.onFrame(frameFromWire(value));
        if (this.isClosed) return;
      }
    } catch (error) {
      // A peer that breaks the protocol loses its connection; a bug in this node still crashes.
      if (!isQuorateError(error)) throw error;
      this.close(error.message, 'error');
    }
  }

  private onFrame(frame: Frame): void {
    if (this.state === 'handshake') {
      this.onHello(frame);
      return;
    }
    if (frame.kind === 'hello') throw protocolError(`${this.peerName} sent a second hello`);
    this.options.events.frame(this, frame);
  }

  private onHello(frame: Frame): void {
    if (frame.kind !== 'hello') throw protocolError(`${this.peerName} sent a ${frame.kind} frame before its hello`);
    const { socket, clusterId, expectedNodeId, direction, limits } = this.options;
    // rejectUnauthorized already refused untrusted certificates; this guards that setting.
    assert(socket.authorized, 'a TLS peer without a trusted certificate got past the handshake');
    const mismatch = helloMismatch(frame, { clusterId, certCommonName: peerCommonName(socket), nodeId: expectedNodeId });
    if (mismatch !== null) {
      this.close(`refused the peer's hello: ${mismatch}`, 'error');
      return;
    }
    this.remoteNodeId = frame.nodeId;
    if (direction === 'inbound') this.sendHello();
    this.state = 'established';
    clearTimeout(this.timer);
    this.timer = setInterval(() => this.keepAlive(), limits.pingIntervalMs);
    this.options.events.established(this);
  }

  private sendHello(): void {
    if (this.state === 'closed') return;
    this.send({ kind: 'hello', nodeId: this.options.nodeId, clusterId: this.options.clusterId, version: protocolVersion });
  }

  private keepAlive(): void {
    const { pingIntervalMs, silenceMsMax } = this.options.limits;
    const now = performance.now();
    const silentMs = now - this.lastReceivedAt;
    if (silentMs > silenceMsMax) {
      this.close(`nothing received for ${Math.round(silentMs)} ms (silenceMsMax is ${silenceMsMax} ms)`, 'warn');
      return;
    }
    if (now - this.lastSentAt >= pingIntervalMs && !this.needsDrain) this.send({ kind: 'ping' });
  }
}

/** The subject CN of the peer's certificate: the node id its certificate was issued to. */
function peerCommonName(socket: TLSSocket): string | null {
  const certificate = socket.getPeerCertificate() as { subject?: { CN?: unknown } };
  const cn = certificate.subject?.CN;
  return typeof cn === 'string' ? cn : null;
}

/** OpenSSL's verification codes for a certificate chain that does not lead to a trusted CA. */
const untrustedCodes = new Set(['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE']);

function describeSocketError(error: Error): string {
  const code = (error as { code?: unknown }).code;
  const hint = typeof code === 'string' && untrustedCodes.has(code) ? " (the peer's certificate is not signed by this cluster's CA)" : '';
  return `socket error: ${error.message}${hint}`;
}
