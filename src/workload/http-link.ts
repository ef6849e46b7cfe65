/**
 * An agent's link to the servers: heartbeats over HTTPS (`POST /v1/agent/heartbeat`), verified
 * against the cluster CA and authenticated by the node's own certificate (mutual TLS: the server
 * checks that the certificate names the node the heartbeat is about). It sticks to one server
 * while that answers and moves on to the next of `--servers` when it does not (seed 000: "always
 * pass the 3 IPs"), trying each at most once per heartbeat. Every answer lists the servers as the
 * cluster knows them now; the link adopts that list (and `onServers` can save it), so agents
 * follow servers that were replaced or added after they started. Heartbeats leave from the
 * node's advertise address (bindTo), as peer connections do, so nodes are told apart by address.
 */
import { Agent as HttpsAgent, request } from 'node:https';
import { QuorateError } from '../util/errors.js';
import { isLocalAddress } from '../util/local-address.js';
import type { AgentLink } from './agent.js';
import type { HeartbeatRequest, HeartbeatResponse, TlsGrant, TlsReport } from './protocol.js';

/** The node's certificate and key, and the CAs it trusts (PEM). */
export interface LinkIdentity {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface HttpLinkOptions {
  /** host:port of the servers' APIs. */
  readonly servers: readonly string[];
  /**
   * Read at every heartbeat: a renewed certificate (or a new trust bundle) is used from the next
   * connection on. The same object means nothing changed.
   */
  readonly identity: () => LinkIdentity;
  /** A worker's: tell the leader about its certificate, and take the renewals it grants. */
  readonly tls?: { report(): TlsReport; install(grant: TlsGrant): Promise<void> };
  /** Per attempt. */
  readonly timeoutMs: number;
  /** Called when the list of servers changed (to keep it across restarts). */
  readonly onServers?: (servers: readonly string[]) => void;
}

const responseBytesMax = 64 * 1024 * 1024;

function httpsAgent({ caPem, certPem, keyPem }: LinkIdentity): HttpsAgent {
  return new HttpsAgent({ keepAlive: true, ca: caPem, cert: certPem, key: keyPem, maxSockets: 2 });
}

export class HttpLink implements AgentLink {
  private current = 0;
  private servers: readonly string[];
  private agent: HttpsAgent;
  private identity: LinkIdentity;
  /** The address heartbeats are sent from; the system's choice when null. */
  private localAddress: string | null = null;

  constructor(private readonly options: HttpLinkOptions) {
    if (options.servers.length === 0) throw new QuorateError('bad_request', '--servers needs at least one server, as host:port');
    this.servers = options.servers;
    this.identity = options.identity();
    this.agent = httpsAgent(this.identity);
  }

  tlsReport(): TlsReport | undefined {
    return this.options.tls?.report();
  }

  async installTls(grant: TlsGrant): Promise<void> {
    await this.options.tls?.install(grant);
  }

  /** The server heartbeats go to now. */
  get server(): string {
    return this.servers[this.current % this.servers.length] ?? '';
  }

  /** Adopt the cluster's list, keeping the server in use first. */
  learnServers(servers: readonly string[]): void {
    if (servers.length === 0 || [...servers].sort().join(',') === [...this.servers].sort().join(',')) return;
    const inUse = this.server;
    this.servers = servers.includes(inUse) ? [inUse, ...servers.filter((s) => s !== inUse)] : [...servers];
    this.current = 0;
    this.options.onServers?.(this.servers);
  }

  /**
   * Send from the node's advertise address when it is one of this machine's (otherwise the
   * system picks the source: on loopback 127.0.0.1 for every node, so a rule meant for one node's
   * address would not cut its heartbeats).
   */
  bindTo(address: string): void {
    this.localAddress = isLocalAddress(address) ? address : null;
  }

  async heartbeat(body: HeartbeatRequest): Promise<HeartbeatResponse> {
    const identity = this.options.identity();
    if (identity !== this.identity) {
      // Connections made with the old certificate end; the next heartbeat dials with the new one.
      this.agent.destroy();
      this.identity = identity;
      this.agent = httpsAgent(identity);
    }
    const problems: string[] = [];
    for (let tried = 0; tried < this.servers.length; tried++) {
      const server = this.server;
      try {
        return (await this.post(server, '/v1/agent/heartbeat', body)) as HeartbeatResponse;
      } catch (error) {
        problems.push(`${server}: ${(error as Error).message}`);
        this.current = (this.current + 1) % this.servers.length;
      }
    }
    throw new QuorateError('unavailable', `no server answered the heartbeat (${problems.join('; ')})`);
  }

  close(): void {
    this.agent.destroy();
  }

  private post(server: string, path: string, body: unknown): Promise<unknown> {
    const text = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        `https://${server}${path}`,
        { method: 'POST', agent: this.agent, ...(this.localAddress === null ? {} : { localAddress: this.localAddress }), timeout: this.options.timeoutMs, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.byteLength;
            if (size > responseBytesMax) req.destroy(new Error('the answer is too large'));
            else chunks.push(chunk);
          });
          response.on('end', () => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              reject(new Error(`answered ${String(response.statusCode)} without JSON: is it a Quorate API port?`));
              return;
            }
            if (response.statusCode === 200) resolve(parsed);
            else reject(new Error(`${String(response.statusCode)} ${(parsed as { message?: unknown }).message as string}`));
          });
          response.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(text);
    });
  }
}
