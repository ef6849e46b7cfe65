/** The embeddable library API (seed 001). */
export { ClusterCoordinator } from './coordinator.js';
export type { ClusterEvents, ClusterMetrics, ClusterNodeState, ClusterState, NodeHealth } from './coordinator.js';
export type { ClusterConfig } from './config.js';
export { KvHandle } from './kv-handle.js';
export type { Bytes, WatchOptions } from './kv-handle.js';
