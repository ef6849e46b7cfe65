/**
 * A real single-voter node (test/api/single-node.ts) with the etcd gRPC API on 127.0.0.1 and a
 * free port, plaintext, and promisified grpc-js clients of its services that send a token.
 */
import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { etcdPackage, startGrpcServer, type GrpcServer } from '../../src/grpc/index.js';
import type { WatchOptions } from '../../src/grpc/index.js';
import { silentLogger } from '../../src/util/log.js';
import { SingleNode, singleNodeAdminToken } from '../api/single-node.js';

type ClientConstructor = new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client;

export class GrpcNode {
  private constructor(
    readonly single: SingleNode,
    readonly grpc: GrpcServer,
  ) {}

  static async start(watch: Partial<WatchOptions> = {}): Promise<GrpcNode> {
    const single = await SingleNode.start();
    const grpc = await startGrpcServer({ host: '127.0.0.1', port: 0, node: () => single.node, log: silentLogger, watch });
    return new GrpcNode(single, grpc);
  }

  client(service: 'KV' | 'Watch' | 'Lease' | 'Auth' | 'Cluster' | 'Maintenance'): Client {
    const Constructor = etcdPackage[service] as unknown as ClientConstructor;
    return new Constructor(this.grpc.address, credentials.createInsecure());
  }

  async stop(): Promise<void> {
    await this.grpc.close();
    await this.single.stop();
  }
}

export function tokenMetadata(token: string = singleNodeAdminToken): Metadata {
  const metadata = new Metadata();
  metadata.set('token', token);
  return metadata;
}

/** Call a unary method; resolves with the response or rejects with the ServiceError. */
export function call<T = Record<string, unknown>>(client: Client, method: string, request: object, metadata: Metadata = tokenMetadata()): Promise<T> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (r: object, m: Metadata, cb: (e: ServiceError | null, v: T) => void) => void>)[method];
    if (fn === undefined) throw new Error(`no method ${method}`);
    fn.call(client, request, metadata, (error, value) => (error === null ? resolve(value) : reject(error)));
  });
}

/** The rejection of `promise`, which must reject. */
export async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('the call succeeded');
}
