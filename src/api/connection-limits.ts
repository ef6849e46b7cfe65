/**
 * Caps on the API's open connections (issue 9): `connectionsMax` in total, so that no crowd of
 * clients can exhaust the process's file descriptors or the memory each connection holds, and
 * `connectionsPerAddressMax` per remote address, so that one greedy or broken client cannot
 * take the whole total and lock everyone else out.
 *
 * A connection over either cap is destroyed as soon as it is accepted, without an answer.
 * Answering 429 would mean reading the request first: the TLS handshake and the headers, for up
 * to requestTimeoutMs, on a connection that exists only to be refused. A client that opens
 * connections without sending requests could then hold the total hostage one address at a time,
 * which is exactly what the per-address cap is there to prevent. Over HTTPS the Quorate client
 * sees the reset before its handshake completes and tries the next endpoint; over plain HTTP a
 * write it had already sent is reported as outcome_unknown (a reset carries no answer). Either
 * way the refusal is counted in the node's status (`api.connections.refused`).
 *
 * The defaults leave headroom for the clients this repository ships: the benchmark keeps up to
 * 1024 keep-alive connections to one endpoint, and on loopback every client (500 simulated
 * agents with one keep-alive connection each, the KV clients, the CLI) comes from 127.0.0.1.
 * Workers behind one NAT address count together too: each agent keeps one connection.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Tally } from './tally.js';

export interface ConnectionLimits {
  readonly connectionsMax: number;
  readonly connectionsPerAddressMax: number;
}

export const defaultConnectionLimits: ConnectionLimits = { connectionsMax: 4096, connectionsPerAddressMax: 1024 };

export interface ConnectionCounts {
  readonly open: number;
  /** Connections closed at once since start: over either cap. */
  readonly refused: number;
}

export class ConnectionGate {
  private readonly byAddress = new Tally();
  private open = 0;
  private refused = 0;

  constructor(
    server: Server,
    private readonly limits: ConnectionLimits,
  ) {
    // Node itself closes connections beyond maxConnections before they become sockets.
    server.maxConnections = limits.connectionsMax;
    server.on('drop', () => this.refused++);
    server.on('connection', (socket: Socket) => this.admit(socket));
  }

  counts(): ConnectionCounts {
    return { open: this.open, refused: this.refused };
  }

  private admit(socket: Socket): void {
    // A socket reset before this runs has no address any more; it is closing anyway.
    const address = socket.remoteAddress;
    if (address === undefined || this.byAddress.get(address) >= this.limits.connectionsPerAddressMax) {
      this.refused++;
      socket.destroy();
      return;
    }
    this.byAddress.add(address);
    this.open++;
    socket.once('close', () => {
      this.open--;
      this.byAddress.remove(address);
    });
  }
}
