/**
 * The small HTTPS listener of a worker node (`quorate agent`): workers hold no replicated state,
 * so they serve only what lives on them, their allocations' logs (`GET /v1/allocations/{id}/logs`,
 * alloc-logs.ts), and `GET /v1/health`. Logs need the admin token or an API token with role
 * operator or admin, checked against the hashes the leader sends with every heartbeat answer
 * (a revoked token drops out with the next one); until the first answer nothing is served.
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parseAclToken } from '../cluster/acl-token.js';
import { secretMatches } from '../cluster/join-token.js';
import { QuorateError } from '../util/errors.js';
import type { LogReaders } from '../workload/protocol.js';
import { requireToken } from './admin-auth.js';
import { serveAllocationLogs } from './alloc-logs.js';
import { ApiError, errorReply } from './errors.js';
import { parseUrl } from './request.js';

export interface AgentApiOptions {
  readonly host: string;
  readonly port: number;
  readonly certPem: string;
  readonly keyPem: string;
  /** The allocations' directory (records and logs). */
  readonly allocationRoot: string;
  /** Who may read logs, as the leader last said; nobody before the first heartbeat answer. */
  readonly logReaders: () => LogReaders;
  readonly health: () => { readonly id: string; readonly leader: string | null; readonly running: number };
  readonly log: (message: string) => void;
}

export interface AgentApi {
  readonly url: string;
  /** Serve a renewed certificate on new connections. */
  updateTls(certPem: string, keyPem: string): void;
  close(): Promise<void>;
}

export async function startAgentApi(options: AgentApiOptions): Promise<AgentApi> {
  const mayRead = (token: string): boolean => {
    const { adminTokenHash, tokens } = options.logReaders();
    if (adminTokenHash !== null && secretMatches(token, adminTokenHash)) return true;
    const parsed = parseAclToken(token);
    return parsed !== null && tokens.some((reader) => reader.id === parsed.id && secretMatches(parsed.secret, reader.secretHash));
  };
  const server = createServer({ cert: options.certPem, key: options.keyPem, minVersion: 'TLSv1.2', requestTimeout: 30_000 }, (request, response) => {
    void (async () => {
      try {
        const { path, query } = parseUrl(request.url ?? '/');
        const logs = /^\/v1\/allocations\/([^/]+)\/logs$/.exec(path);
        if (request.method === 'GET' && logs !== null) {
          requireToken(request, mayRead, 'the admin token or an API token with role operator or admin');
          await serveAllocationLogs(request, response, options.allocationRoot, logs[1] ?? '', query);
          return;
        }
        if (request.method === 'GET' && path === '/v1/health') {
          const health = options.health();
          response.writeHead(health.leader === null ? 503 : 200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ healthy: health.leader !== null, role: 'worker', ...health }));
          return;
        }
        throw new ApiError('not_found', `a worker serves only /v1/allocations/{id}/logs and /v1/health, not ${request.method ?? ''} ${path}; ask a server`);
      } catch (error) {
        if (response.headersSent) {
          response.destroy();
          return;
        }
        const reply = errorReply(error, options.log);
        response.writeHead(reply.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(reply.body));
      }
    })();
  });
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', (error) => reject(new QuorateError('listen_failed', `the agent cannot listen on ${options.host}:${options.port}: ${error.message}`)));
    server.listen(options.port, options.host, () => resolve(server.address() as AddressInfo));
  });
  return {
    url: `https://${address.address}:${address.port}`,
    updateTls: (certPem, keyPem) => server.setSecureContext({ cert: certPem, key: keyPem, minVersion: 'TLSv1.2' }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
