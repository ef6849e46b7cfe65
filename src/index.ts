/**
 * The quorate npm library: embed a Raft-replicated KV in an application (ClusterCoordinator,
 * seed 001), or talk to a running cluster over its HTTP API.
 */
export * from './coordinator/index.js';
export { QuorateClient, QuorateClientError } from './client/index.js';
export type { QuorateClientOptions, WatchStream, WatchOptions as ClientWatchOptions } from './client/index.js';
export { QuorateError, isQuorateError } from './util/errors.js';
export type { KeyValue, KvEvent, TxnRequest, TxnResponse, Compare, TxnOp } from './state/index.js';
export type { Consistency, LeaseStatus, NodeStatus, MemberStatus } from './server/index.js';
