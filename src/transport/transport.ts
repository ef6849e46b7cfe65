/**
 * The peer transport: the node driver's `Transport` over TCP with mutual TLS.
 *
 * Each node dials every peer and keeps that one outbound connection up (see peer.ts);
 * it receives on the connections its peers dialed. A request's response comes back on the
 * connection the request went out on, so a node that knows only an address (a joiner) can ask
 * and be answered. Every connection is authenticated twice: TLS checks the certificate against
 * the cluster CA, then the hello must name the node the certificate was issued to.
 */
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import * as tls from 'node:tls';
import type { Transport } from '../node/interfaces.js';
import type { Message } from '../raft/index.js';
import { QuorateError } from '../util/errors.js';
import { isLocalAddress } from '../util/local-address.js';
import { formatHostPort, parseHostPort, type HostPort } from './address.js';
import { Connection, type ConnectionEvents } from './connection.js';
import { resolveLimits, type TransportLimits } from './limits.js';
import { silentLog, type TransportLog } from './log.js';
import { Peer, type PeerDial } from './peer.js';
import type { Frame, HelloFrame } from './protocol.js';
import { PendingRequests, serveRequest, withTimeout, type RequestHandler } from './rpc.js';
import { listenOn } from './listen.js';
import type { SharedPeerListener } from './shared-listener.js';
import { SnapshotAssembler, type SnapshotProgress } from './snapshot-stream.js';
import { protocolError } from './wire-values.js';

export interface TransportTls {
  readonly keyPem: string;
  readonly certPem: string;
  /**
   * The cluster CA: the only issuer this node trusts, for both directions. During a CA rotation
   * it holds both CAs (PEM certificates one after the other), so old and new certificates pass.
   */
  readonly caPem: string;
}

function secureContextOptions({ keyPem, certPem, caPem }: TransportTls): tls.SecureContextOptions {
  // The CA given here replaces the system's roots: only the cluster CA is trusted.
  return { key: keyPem, cert: certPem, ca: caPem, minVersion: 'TLSv1.3' };
}

export interface PeerTransportOptions {
  readonly nodeId: string;
  readonly clusterId: string;
  readonly listenHost: string;
  /** 0 picks a free port (see `port`). */
  readonly listenPort: number;
  /** The address peers know this node by; outbound connections come from it when it is local. */
  readonly advertiseHost: string;
  readonly tls: TransportTls;
  /** A raft message from a peer, checked to be from the authenticated node and to this one. */
  readonly onMessage: (m: Message) => void;
  /** Answers `request` calls; a QuorateError it throws reaches the caller with its code. */
  readonly onRequest?: RequestHandler;
  /** Whether a MsgSnap's stream was written out (true) or broke (false). */
  readonly onSnapshotStatus?: (to: string, ok: boolean) => void;
  readonly limits?: Partial<TransportLimits>;
  readonly log?: TransportLog;
  /**
   * Sent as SNI on every dial, so that a listener serving several clusters (an arbiter) knows
   * which one is dialed (shared-listener.ts serverNameOf); other nodes ignore it.
   */
  readonly serverName?: string;
  /** Receive through this listener (under `serverName`) instead of listening on listenHost:listenPort. */
  readonly sharedListener?: SharedPeerListener;
}

export interface PeerStatus {
  readonly nodeId: string;
  readonly address: string;
  /** Whether this node's outbound connection to the peer is established. */
  readonly connected: boolean;
  /** Milliseconds since anything arrived from the peer on any connection; null if never. */
  readonly lastReceivedMs: number | null;
  /** Where the peer's own connection to this node comes from, as seen here. */
  readonly inboundAddress: string | null;
  readonly dials: number;
  readonly framesSent: number;
  readonly messagesSent: number;
  readonly dropped: { readonly queueFull: number; readonly disconnected: number; readonly tooLarge: number };
}

export interface TransportStats {
  /** Messages to nodes that are not in the peer list. */
  readonly droppedUnknownPeer: number;
  readonly framesReceived: number;
  readonly messagesReceived: number;
}

export class PeerTransport implements Transport {
  readonly nodeId: string;
  readonly limits: TransportLimits;
  private readonly log: TransportLog;
  /** Null when connections arrive through a shared listener. */
  private readonly server: tls.Server | null;
  private detach: (() => void) | null = null;
  private tlsOptions: tls.SecureContextOptions;
  private tlsMaterial: TransportTls;
  private readonly bindOutbound: boolean;
  private readonly peers = new Map<string, Peer>();
  /** Every open connection, in both directions: the transport owns them all. */
  private readonly connections = new Set<Connection>();
  private readonly assemblers = new WeakMap<Connection, SnapshotAssembler>();
  /** The connection a snapshot is arriving on, until it is whole or the connection closes. */
  private receivingSnapshot: { readonly conn: Connection; readonly assembler: SnapshotAssembler } | null = null;
  private readonly inbound = new Map<string, Connection>();
  private readonly lastHeardAt = new Map<string, number>();
  private readonly rpc: PendingRequests;
  private counters = { droppedUnknownPeer: 0, framesReceived: 0, messagesReceived: 0 };
  private closing: Promise<void> | null = null;
  private listeningPort: number;

  private constructor(private readonly options: PeerTransportOptions) {
    if (options.nodeId === '' || options.clusterId === '') throw new QuorateError('invalid_config', 'the transport needs a node id and a cluster id');
    this.nodeId = options.nodeId;
    this.listeningPort = options.listenPort;
    this.limits = resolveLimits(options.limits);
    this.log = options.log ?? silentLog;
    this.rpc = new PendingRequests(this.limits.pendingRequestsMax);
    this.tlsMaterial = options.tls;
    this.tlsOptions = secureContextOptions(options.tls);
    this.bindOutbound = sendsFromAdvertised(options.advertiseHost, options.listenHost);
    if (options.sharedListener !== undefined) {
      this.server = null;
      return;
    }
    this.server = tls.createServer({
      ...this.tlsOptions,
      requestCert: true,
      rejectUnauthorized: true,
      handshakeTimeout: this.limits.dialTimeoutMs,
    });
    this.server.maxConnections = this.limits.inboundConnectionsMax;
    this.server.on('secureConnection', (socket) => this.accept(socket));
    // The address is gone when the client hung up first, as one that distrusts this node's
    // certificate does; that client logs the reason on its side.
    this.server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
      const from = socket.remoteAddress === undefined ? '' : ` from ${socket.remoteAddress}`;
      this.log('warn', `refused a TLS connection${from}: ${error.message}`, { remote: socket.remoteAddress });
    });
  }

  /** Listen, then return the transport. Fails with `listen_failed` if the address is taken. */
  static async start(options: PeerTransportOptions): Promise<PeerTransport> {
    const transport = new PeerTransport(options);
    await transport.listen();
    return transport;
  }

  /** The port actually listened on (useful with listenPort 0); kept after close for restarts. */
  get port(): number {
    return this.listeningPort;
  }

  /** This node's peer address as others should dial it. */
  get advertiseAddress(): string {
    return formatHostPort(this.options.advertiseHost, this.port);
  }

  /** The nodes to dial, by id. Connections to removed nodes (both directions) are closed. */
  setPeers(peers: ReadonlyMap<string, string>): void {
    // Every address is checked before anything changes.
    const wanted = new Map<string, { address: string; hostPort: HostPort }>();
    for (const [id, address] of peers) if (id !== this.nodeId) wanted.set(id, { address, hostPort: parseHostPort(address) });
    for (const [id, peer] of this.peers) {
      const address = wanted.get(id)?.address;
      if (address === peer.address) continue;
      const reason = address === undefined ? `node "${id}" was removed from the peers` : `node "${id}" moved to ${address}`;
      peer.close(new QuorateError('unreachable', reason));
      this.peers.delete(id);
      if (address === undefined) for (const conn of this.connections) if (conn.remoteNodeId === id) conn.close(reason);
    }
    if (this.closing !== null) return;
    const dial: PeerDial = (hostPort, expected, events) => this.dial(hostPort, expected, events);
    for (const [id, { address, hostPort }] of wanted) {
      if (this.peers.has(id)) continue;
      const status = (ok: boolean): void => this.options.onSnapshotStatus?.(id, ok);
      this.peers.set(id, new Peer(id, address, hostPort, this.limits, this.log, dial, status));
    }
  }

  /** Queue messages; never blocks and never throws. Undeliverable messages are counted. */
  send(messages: readonly Message[]): void {
    if (this.closing !== null) return;
    for (const m of messages) {
      const peer = this.peers.get(m.to);
      if (peer === undefined) this.counters.droppedUnknownPeer++;
      else peer.enqueue(m);
    }
  }

  /** Ask peer `to`; its onRequest answers. Rejects `unreachable`, `timeout` or the remote's code. */
  async request(to: string, method: string, body: unknown, timeoutMs: number): Promise<unknown> {
    this.assertOpen();
    const peer = this.peers.get(to);
    if (peer === undefined) throw new QuorateError('unreachable', `no address is known for node "${to}"`);
    const startedAt = performance.now();
    const conn = await withTimeout(peer.connection(), timeoutMs, () => new QuorateError('timeout', `could not connect to node "${to}" at ${peer.address} within ${timeoutMs} ms`));
    return this.rpc.call(conn, method, body, timeoutMs, startedAt);
  }

  /**
   * Ask whichever node answers at `address` (`host:port`), for a node that knows no ids yet.
   * The answering node proves its identity in its hello; the connection is closed afterwards.
   */
  async requestAddress(address: string, method: string, body: unknown, timeoutMs: number): Promise<unknown> {
    this.assertOpen();
    const hostPort = parseHostPort(address);
    const startedAt = performance.now();
    const { conn, established } = this.dialOnce(hostPort, address);
    try {
      const ready = await withTimeout(established, timeoutMs, () => new QuorateError('timeout', `could not connect to ${address} within ${timeoutMs} ms`));
      return await this.rpc.call(ready, method, body, timeoutMs, startedAt);
    } finally {
      conn.close('the request is done');
    }
  }

  /** Each peer's connection state and counters, by node id. */
  peerStatus(): ReadonlyMap<string, PeerStatus> {
    const now = performance.now();
    const status = new Map<string, PeerStatus>();
    for (const peer of this.peers.values()) {
      const heardAt = this.lastHeardAt.get(peer.nodeId);
      const c = peer.counters;
      status.set(peer.nodeId, {
        nodeId: peer.nodeId,
        address: peer.address,
        connected: peer.connected,
        lastReceivedMs: heardAt === undefined ? null : Math.round(now - heardAt),
        inboundAddress: this.inbound.get(peer.nodeId)?.remoteAddress ?? null,
        dials: c.dials,
        framesSent: c.framesSent,
        messagesSent: c.messagesSent,
        dropped: { queueFull: c.droppedQueueFull, disconnected: c.droppedDisconnected, tooLarge: c.droppedTooLarge },
      });
    }
    return status;
  }

  stats(): TransportStats {
    return { ...this.counters };
  }

  /** The snapshot being received, if one is on its way. */
  snapshotProgress(): SnapshotProgress | null {
    return this.receivingSnapshot?.assembler.progress() ?? null;
  }

  /**
   * Present a renewed certificate (or trust a new CA bundle) from now on: new connections in
   * both directions use it; established ones keep the session they negotiated. Throws, changing
   * nothing, when the key does not match the certificate.
   */
  updateTls(material: TransportTls): void {
    const options = secureContextOptions(material);
    tls.createSecureContext(options);
    this.server?.setSecureContext(options);
    this.tlsOptions = options;
    this.tlsMaterial = material;
    const { sharedListener, serverName } = this.options;
    if (this.closing === null && this.detach !== null && sharedListener !== undefined && serverName !== undefined) {
      this.detach();
      this.detach = sharedListener.attach(serverName, material, (socket) => this.accept(socket));
    }
  }

  /** Close the listener and every connection, cancel timers, reject waiting requests. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    const closing = new QuorateError('unavailable', `the peer transport of node "${this.nodeId}" closed before the answer arrived`);
    this.rpc.failAll(closing);
    for (const peer of this.peers.values()) peer.close(closing);
    this.peers.clear();
    const closed = [...this.connections].map((conn) => conn.closed);
    for (const conn of this.connections) conn.close('the transport is closing');
    this.detach?.();
    const server = this.server;
    const serverClosed = server === null ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([serverClosed, ...closed]);
  }

  private async listen(): Promise<void> {
    const { listenHost, listenPort, sharedListener, serverName } = this.options;
    if (sharedListener !== undefined) {
      if (serverName === undefined) throw new QuorateError('invalid_config', 'a transport on a shared listener needs the server name it is dialed by');
      this.detach = sharedListener.attach(serverName, this.tlsMaterial, (socket) => this.accept(socket));
      this.listeningPort = sharedListener.port;
      return;
    }
    const server = this.server;
    if (server === null) throw new QuorateError('invalid_config', 'the transport has no listener');
    this.listeningPort = await listenOn(server, listenHost, listenPort, 'peers', this.log);
    this.log('info', `listening for peers on ${formatHostPort(listenHost, this.port)}`, { node: this.nodeId });
  }

  private assertOpen(): void {
    if (this.closing !== null) throw new QuorateError('unavailable', `the peer transport of node "${this.nodeId}" is closed`);
  }

  private dial(address: HostPort, expectedNodeId: string | null, events: Omit<ConnectionEvents, 'frame'>): Connection {
    const socket = tls.connect({
      host: address.host,
      port: address.port,
      ...(this.bindOutbound ? { localAddress: this.options.advertiseHost } : {}),
      ...(this.options.serverName === undefined ? {} : { servername: this.options.serverName }),
      ...this.tlsOptions,
      rejectUnauthorized: true,
      // A peer's identity is the node id in its certificate, which the hello checks against the
      // node this connection must reach; host names and addresses in SANs are not what we trust.
      checkServerIdentity: () => undefined,
    });
    return this.adopt(socket, 'outbound', expectedNodeId, formatHostPort(address.host, address.port), {
      established: (conn) => {
        this.heard(conn);
        events.established(conn);
      },
      frame: (conn, frame) => this.onFrame(conn, frame),
      drain: (conn) => events.drain(conn),
      closed: (conn) => events.closed(conn),
    });
  }

  /** A connection of its own for one request to an address; `established` rejects if it fails. */
  private dialOnce(hostPort: HostPort, address: string): { conn: Connection; established: Promise<Connection> } {
    let resolve: (conn: Connection) => void = () => undefined;
    let reject: (error: Error) => void = () => undefined;
    const established = new Promise<Connection>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const conn = this.dial(hostPort, null, {
      established: (c) => resolve(c),
      drain: () => undefined,
      closed: (c) => reject(new QuorateError('unreachable', `cannot reach ${address}: ${c.closeReason ?? 'closed'}`)),
    });
    return { conn, established };
  }

  private accept(socket: tls.TLSSocket): void {
    if (this.closing !== null) {
      socket.destroy();
      return;
    }
    const from = socket.remoteAddress === undefined || socket.remotePort === undefined ? '(unknown)' : formatHostPort(socket.remoteAddress, socket.remotePort);
    this.adopt(socket, 'inbound', null, from, {
      established: (conn) => {
        this.heard(conn);
        if (conn.remoteNodeId !== null) this.inbound.set(conn.remoteNodeId, conn);
      },
      frame: (conn, frame) => this.onFrame(conn, frame),
      drain: () => undefined,
      closed: (conn) => {
        if (conn.remoteNodeId !== null && this.inbound.get(conn.remoteNodeId) === conn) this.inbound.delete(conn.remoteNodeId);
      },
    });
  }

  /** Wrap a socket; the transport tracks the connection and fails its requests when it closes. */
  private adopt(socket: tls.TLSSocket, direction: 'outbound' | 'inbound', expectedNodeId: string | null, address: string, events: ConnectionEvents): Connection {
    const conn = new Connection({
      socket,
      direction,
      nodeId: this.nodeId,
      clusterId: this.options.clusterId,
      expectedNodeId,
      address,
      limits: this.limits,
      log: this.log,
      events: {
        ...events,
        closed: (c) => {
          this.connections.delete(c);
          if (this.receivingSnapshot?.conn === c) this.receivingSnapshot = null;
          this.rpc.failConnection(c);
          events.closed(c);
        },
      },
    });
    this.connections.add(conn);
    return conn;
  }

  private heard(conn: Connection): void {
    if (conn.remoteNodeId !== null) this.lastHeardAt.set(conn.remoteNodeId, performance.now());
  }

  private onFrame(conn: Connection, frame: Exclude<Frame, HelloFrame>): void {
    this.heard(conn);
    this.counters.framesReceived++;
    switch (frame.kind) {
      case 'ping':
        return;
      case 'raft':
        for (const m of frame.messages) this.deliver(conn, m);
        return;
      case 'snapshot': {
        let assembler = this.assemblers.get(conn);
        if (assembler === undefined) this.assemblers.set(conn, (assembler = new SnapshotAssembler(this.limits.snapshotBytesMax)));
        const m = assembler.push(frame);
        this.receivingSnapshot = m === null ? { conn, assembler } : null;
        if (m !== null) this.deliver(conn, m);
        return;
      }
      case 'request':
        void serveRequest(conn, frame, this.options.onRequest, { nodeId: this.nodeId, answeringMax: this.limits.pendingRequestsMax, log: this.log });
        return;
      case 'response':
        this.rpc.answer(conn, frame);
        return;
    }
  }

  private deliver(conn: Connection, m: Message): void {
    // The hello authenticated the sender; a message claiming another sender or meant for
    // another node is a broken or confused peer, and its connection is closed.
    if (m.from !== conn.remoteNodeId) throw protocolError(`${conn.peerName} sent a message from "${m.from}"`);
    if (m.to !== this.nodeId) throw protocolError(`${conn.peerName} sent a message for node "${m.to}" to node "${this.nodeId}"`);
    this.counters.messagesReceived++;
    this.options.onMessage(m);
  }
}

/**
 * Outbound connections come from the advertised address when this machine has it, so that a
 * peer (and a firewall, or a fault-injection test dropping packets by address) sees the
 * address it knows this node by. Behind NAT the advertised address is not local: the kernel
 * then picks the source address.
 */
function sendsFromAdvertised(advertiseHost: string, listenHost: string): boolean {
  if (isIP(advertiseHost) === 0) return false;
  return advertiseHost === listenHost || isLocalAddress(advertiseHost);
}
