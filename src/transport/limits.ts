/**
 * Every bound the peer transport enforces (DESIGN.md section 2, rule 5). They come from
 * configuration, so bad values are user errors (QuorateError), not assertions.
 */
import { QuorateError } from '../util/errors.js';

export interface TransportLimits {
  /** The largest frame payload sent or accepted; a peer announcing more is disconnected. */
  readonly frameBytesMax: number;
  /** Raft messages waiting for one peer's connection; more are dropped (Raft retries). */
  readonly queueMessagesMax: number;
  /** Estimated bytes of the messages waiting for one peer's connection. */
  readonly queueBytesMax: number;
  /** Snapshot data per chunk frame when a snapshot is streamed. */
  readonly snapshotChunkBytes: number;
  /** The largest snapshot a receiver reassembles. */
  readonly snapshotBytesMax: number;
  /** The first reconnect delay; it doubles after each failed dial, with jitter. */
  readonly reconnectDelayMs: number;
  readonly reconnectDelayMsMax: number;
  /** TCP connect, TLS handshake and hello exchange together must finish within this. */
  readonly dialTimeoutMs: number;
  /** An idle connection sends a ping this often, so that its peer can tell it is alive. */
  readonly pingIntervalMs: number;
  /**
   * A connection that received nothing for this long is closed: TCP alone may take many
   * minutes to notice a peer that vanished behind a partition.
   */
  readonly silenceMsMax: number;
  /** Requests this node waits on, and requests one connection may have in flight here. */
  readonly pendingRequestsMax: number;
  /** Simultaneous incoming connections. */
  readonly inboundConnectionsMax: number;
}

const MiB = 1024 * 1024;

export const defaultTransportLimits: TransportLimits = {
  frameBytesMax: 16 * MiB,
  queueMessagesMax: 4096,
  queueBytesMax: 64 * MiB,
  snapshotChunkBytes: 1 * MiB,
  snapshotBytesMax: 8 * 1024 * MiB,
  reconnectDelayMs: 50,
  reconnectDelayMsMax: 2000,
  dialTimeoutMs: 5000,
  pingIntervalMs: 1000,
  silenceMsMax: 5000,
  pendingRequestsMax: 1024,
  inboundConnectionsMax: 1024,
};

/** Room a chunk frame needs besides its data: the MsgSnap header with its membership lists. */
const chunkOverheadBytes = 64 * 1024;

export function resolveLimits(overrides: Partial<TransportLimits> | undefined): TransportLimits {
  const limits = { ...defaultTransportLimits, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new QuorateError('invalid_config', `transport limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  if (limits.snapshotChunkBytes + chunkOverheadBytes > limits.frameBytesMax) {
    throw new QuorateError(
      'invalid_config',
      `snapshotChunkBytes (${limits.snapshotChunkBytes}) must be at least ${chunkOverheadBytes} bytes below frameBytesMax (${limits.frameBytesMax}), or chunks would not fit in a frame`,
    );
  }
  if (limits.reconnectDelayMs > limits.reconnectDelayMsMax) {
    throw new QuorateError('invalid_config', `reconnectDelayMs (${limits.reconnectDelayMs}) exceeds reconnectDelayMsMax (${limits.reconnectDelayMsMax})`);
  }
  if (limits.pingIntervalMs >= limits.silenceMsMax) {
    throw new QuorateError('invalid_config', `pingIntervalMs (${limits.pingIntervalMs}) must be below silenceMsMax (${limits.silenceMsMax}), or idle connections would be closed`);
  }
  return limits;
}
