/**
 * A server node's gRPC listener as its config asks (grpc_address): TLS with the node's
 * certificate, or plaintext only where the HTTP API is plaintext too (--insecure-api, which is
 * allowed on loopback only) and the gRPC address is loopback as well. A default address that
 * is taken is skipped with a warning, so that a second node on one host, or an etcd already on
 * 2379, does not stop the node; an address the operator named must bind.
 */
import { formatHostPort, isLoopback, type ServerConfig, type ServerNode } from '../server/index.js';
import type { Logger } from '../util/log.js';
import { startGrpcServer, type GrpcServer } from './server.js';

export async function startNodeGrpc(config: ServerConfig, node: () => ServerNode, log: Logger): Promise<GrpcServer | null> {
  if (config.grpc === null) return null;
  const { address, explicit } = config.grpc;
  const plaintext = config.insecureApi && isLoopback(address.host);
  try {
    return await startGrpcServer({ ...address, node, log, ...(plaintext ? {} : { tls: node().tls.material }) });
  } catch (error) {
    if (explicit) throw error;
    log.log('warn', `the etcd-compatible gRPC API is off: cannot listen on ${formatHostPort(address)} (${error instanceof Error ? error.message : String(error)}); set grpc_address to a free address`);
    return null;
  }
}
