/** The peer transport: TCP with mutual TLS, framed msgpack, batching, reconnect, snapshot streams. */
export { PeerTransport } from './transport.js';
export type { PeerStatus, PeerTransportOptions, TransportStats, TransportTls } from './transport.js';
export type { RequestHandler } from './rpc.js';
export type { SnapshotProgress } from './snapshot-stream.js';
export { defaultTransportLimits } from './limits.js';
export type { TransportLimits } from './limits.js';
export type { TransportLog, TransportLogLevel } from './log.js';
export { SharedPeerListener, serverNameOf } from './shared-listener.js';
export type { SharedListenerOptions } from './shared-listener.js';
