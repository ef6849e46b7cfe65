/**
 * What every etcd service handler shares: the node it serves, authentication, response headers
 * and the one wrapper that turns a handler's promise into a gRPC answer or status. The
 * Cluster and Maintenance services (cluster-service.ts, maintenance-service.ts) plug in with
 * the same context through a ServiceRegistrar.
 */
import type { Server, handleUnaryCall } from '@grpc/grpc-js';
import type { Permission } from '../cluster/acl-token.js';
import type { KvService, Principal, ServerNode } from '../server/index.js';
import type { Logger } from '../util/log.js';
import type { GrpcAuth } from './auth.js';
import { toGrpcError, type GrpcError } from './errors.js';
import { clusterIdOf, memberIdOf } from './ids.js';
import type { ResponseHeader } from './messages.js';

export interface GrpcContext {
  /** The node served now (a two_node survivor restarts its node while the listener stays). */
  node(): ServerNode;
  /** The service requests go to: the node's, unless the server was started with another. */
  service(): KvService;
  readonly auth: GrpcAuth;
  readonly log: Logger;
  /** A header at `revision`, or at the node's applied revision when it is not given; the node's term. */
  header(revision?: number): ResponseHeader;
  /** Any thrown error as the status to answer with (etcd's wording). */
  failure(error: unknown): GrpcError;
  /**
   * A unary handler: checks the caller's token for `permission` (null: no token needed, as for
   * MemberList, which etcdctl asks without credentials), runs `body` and answers with its
   * result or its error's status.
   */
  unary<Request, Response>(permission: Permission, body: (request: Request, principal: Principal) => Promise<Response>): handleUnaryCall<Request, Response>;
  unary<Request, Response>(permission: null, body: (request: Request) => Promise<Response>): handleUnaryCall<Request, Response>;
}

/** Adds one etcd service to the server (the Cluster and Maintenance services use this shape). */
export type ServiceRegistrar = (server: Server, context: GrpcContext) => void;

export function grpcContext(node: () => ServerNode, service: () => KvService, auth: GrpcAuth, log: Logger): GrpcContext {
  // Hashing the node id and parsing the cluster id on every answer would be waste; both are
  // fixed for a node object.
  let ids: { readonly node: ServerNode; readonly clusterId: string; readonly memberId: string } | null = null;
  const context: GrpcContext = {
    node,
    service,
    auth,
    log,
    header(revision) {
      const current = node();
      if (ids?.node !== current) ids = { node: current, clusterId: clusterIdOf(current.clusterId), memberId: memberIdOf(current.id) };
      // Every answer carries a header, so it reads the two numbers directly: status() copies
      // the member list and the leader's progress, which cost more than many a request.
      return { cluster_id: ids.clusterId, member_id: ids.memberId, revision: revision ?? current.state.kv.revision, raft_term: current.term };
    },
    failure: (error) => toGrpcError(error, service().status().leader !== null, (message) => log.log('error', `etcd API: ${message}`)),
    unary<Request, Response>(permission: Permission | null, body: (request: Request, principal: Principal) => Promise<Response>): handleUnaryCall<Request, Response> {
      return (call, callback) => {
        // With no permission asked, no principal is passed: the body's declared type takes none.
        const run = async (): Promise<Response> => (permission === null ? (body as (request: Request) => Promise<Response>)(call.request) : body(call.request, auth.check(call, permission)));
        run().then(
          (response) => callback(null, response),
          (error: unknown) => callback(context.failure(error)),
        );
      };
    },
  };
  return context;
}
