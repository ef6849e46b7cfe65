/**
 * The etcd-compatible gRPC listener (issue 11): etcdserverpb's KV, Watch, Lease, Cluster,
 * Maintenance and Auth.Authenticate on one port (2379 by default), beside the HTTP API. It
 * serves the node's certificate, following renewals without a restart (credentials.ts), or
 * plaintext where the HTTP API may (--insecure-api on loopback). close() ends every open stream
 * and connection and stops listening.
 */
import { Server } from '@grpc/grpc-js';
import type { KvService, ServerNode, TlsMaterial } from '../server/index.js';
import type { Logger } from '../util/log.js';
import { GrpcAuth } from './auth.js';
import { registerAuthService } from './auth-service.js';
import { registerClusterService } from './cluster-service.js';
import { grpcContext, type ServiceRegistrar } from './context.js';
import { serverCredentials, TlsMaterialProvider } from './credentials.js';
import { registerKvService } from './kv-service.js';
import { registerLeaseService } from './lease-service.js';
import { registerMaintenanceService } from './maintenance-service.js';
import { defaultWatchOptions, watchService, type WatchOptions } from './watch-service.js';

/** etcd's default --max-request-bytes is 1.5 MiB; a request carries at most one value (valueBytesMax) and its key. */
const messageBytesMax = 2 * 1024 * 1024;

export interface GrpcServerOptions {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** The node served; a function because a two_node survivor replaces its node (server-command.ts). */
  readonly node: () => ServerNode;
  /** The service requests go to; the node's by default (tests substitute failing ones). */
  readonly service?: () => KvService;
  /** The node's certificate; plaintext without (only for --insecure-api on loopback). */
  readonly tls?: TlsMaterial;
  readonly log: Logger;
  readonly watch?: Partial<WatchOptions>;
}

export interface GrpcServer {
  /** host:port as bound. */
  readonly address: string;
  readonly port: number;
  /** Present this certificate on new connections (NodeTls 'changed'). */
  updateTls(material: TlsMaterial): void;
  close(): Promise<void>;
}

export async function startGrpcServer(options: GrpcServerOptions): Promise<GrpcServer> {
  const service = options.service ?? (() => options.node().service);
  const context = grpcContext(options.node, service, new GrpcAuth(service), options.log);
  // Channelz (grpc-js's call statistics, served to channelz clients) is off: Quorate serves no
  // channelz service, and its per-call bookkeeping would only cost time.
  const server = new Server({ 'grpc.max_receive_message_length': messageBytesMax, 'grpc.enable_channelz': 0 });
  const watch = watchService({ ...defaultWatchOptions, ...options.watch });
  const registrars: readonly ServiceRegistrar[] = [registerKvService, watch, registerLeaseService, registerClusterService, registerMaintenanceService, registerAuthService];
  for (const register of registrars) register(server, context);
  const provider = options.tls === undefined ? null : new TlsMaterialProvider(options.tls);
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port}`, serverCredentials(provider), (error, bound) => (error === null ? resolve(bound) : reject(error)));
  });
  return {
    address: `${host}:${port}`,
    port,
    updateTls(material) {
      provider?.update(material);
    },
    // Watch and keep-alive streams never end by themselves: cancelling every call ends them
    // (their handlers release their subscriptions and timers on cancellation), and clients fail
    // over to another endpoint, as they do when an etcd member stops. forceShutdown() alone
    // (grpc-js 1.14) ends only the connections it tracks for channelz, which is off, so a
    // connected client kept a stopping server alive: drain() with no grace ends them all.
    close() {
      server.drain(`${host}:${port}`, 0);
      server.forceShutdown();
      // drain() destroys the connections on a timer of 0 ms.
      return new Promise((resolve) => setTimeout(resolve, 0));
    },
  };
}
