/** The etcd-compatible gRPC API (issue 11): its server, and the id mapping MemberList and headers share. */
export { startGrpcServer } from './server.js';
export { startNodeGrpc } from './listen.js';
export type { GrpcServer, GrpcServerOptions } from './server.js';
export { clusterIdOf, memberIdOf } from './ids.js';
export { etcdPackage } from './protocol.js';
export type { WatchOptions } from './watch-service.js';
