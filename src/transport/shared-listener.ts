/**
 * One peer listener for several clusters (the arbiter, seed 003: "can act as a tie-breaker for
 * more than one cluster"). A node dialing a peer names its cluster in TLS's SNI (serverNameOf);
 * the listener answers with that cluster's certificate and checks the dialer's certificate
 * against that cluster's CA alone, so mutual TLS stays per cluster: a node of one cluster
 * cannot reach another's arbiter node. A connection that names no cluster the listener serves
 * gets the listener's own certificate and goes to `unrouted` (the arbiter's enrollment API).
 */
import * as tls from 'node:tls';
import { QuorateError } from '../util/errors.js';
import { formatHostPort } from './address.js';
import { listenOn } from './listen.js';
import { silentLog, type TransportLog } from './log.js';
import type { TransportTls } from './transport.js';

export interface SharedListenerOptions {
  readonly host: string;
  readonly port: number;
  /** The certificate served to connections that name no attached cluster. */
  readonly identity: { readonly keyPem: string; readonly certPem: string };
  /** A TLS connection that names no attached cluster (its client certificate is not checked). */
  readonly unrouted: (socket: tls.TLSSocket) => void;
  readonly handshakeTimeoutMs: number;
  readonly log?: TransportLog;
}

/** The SNI name a node sends when it dials a peer of cluster `clusterId` (a DNS label, as SNI requires). */
export function serverNameOf(clusterId: string): string {
  return `quorate-${clusterId}`;
}

interface Route {
  readonly context: tls.SecureContext;
  readonly accept: (socket: tls.TLSSocket) => void;
}

export class SharedPeerListener {
  private readonly routes = new Map<string, Route>();
  private readonly server: tls.Server;
  private readonly log: TransportLog;
  private boundPort: number;

  private constructor(private readonly options: SharedListenerOptions) {
    this.log = options.log ?? silentLog;
    this.boundPort = options.port;
    this.server = tls.createServer({
      key: options.identity.keyPem,
      cert: options.identity.certPem,
      minVersion: 'TLSv1.3',
      requestCert: true,
      // Checked per route below: the enrollment API is reached without a cluster certificate.
      rejectUnauthorized: false,
      handshakeTimeout: options.handshakeTimeoutMs,
      SNICallback: (name, done) => done(null, this.routes.get(name)?.context),
    });
    this.server.on('secureConnection', (socket) => this.route(socket));
    this.server.on('tlsClientError', (error: Error, socket: tls.TLSSocket) => {
      this.log('warn', `refused a TLS connection from ${socket.remoteAddress ?? '(gone)'}: ${error.message}`, { remote: socket.remoteAddress });
    });
  }

  static async start(options: SharedListenerOptions): Promise<SharedPeerListener> {
    const listener = new SharedPeerListener(options);
    await listener.listen();
    return listener;
  }

  get port(): number {
    return this.boundPort;
  }

  get address(): string {
    return formatHostPort(this.options.host, this.boundPort);
  }

  /** Serve cluster connections that name `serverName`; returns the function that stops it. */
  attach(serverName: string, material: TransportTls, accept: (socket: tls.TLSSocket) => void): () => void {
    if (this.routes.has(serverName)) throw new QuorateError('listen_failed', `${serverName} is already served on ${this.address}`);
    const context = tls.createSecureContext({ key: material.keyPem, cert: material.certPem, ca: material.caPem, minVersion: 'TLSv1.3' });
    const route = { context, accept };
    this.routes.set(serverName, route);
    return () => {
      if (this.routes.get(serverName) === route) this.routes.delete(serverName);
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private route(socket: tls.TLSSocket): void {
    const name = typeof socket.servername === 'string' ? socket.servername : '';
    const route = this.routes.get(name);
    if (route === undefined) {
      this.options.unrouted(socket);
      return;
    }
    if (!socket.authorized) {
      this.log('warn', `refused a peer connection for ${name} from ${socket.remoteAddress ?? '(gone)'}: ${String(socket.authorizationError)}`, { remote: socket.remoteAddress });
      socket.destroy();
      return;
    }
    route.accept(socket);
  }

  private async listen(): Promise<void> {
    this.boundPort = await listenOn(this.server, this.options.host, this.options.port, 'clusters', this.log);
  }
}
