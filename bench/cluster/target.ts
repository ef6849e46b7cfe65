/**
 * What the cluster benchmark needs from a system under test: three nodes on loopback that it
 * can write to, read from and crash. Every target is driven by the same client code (run.ts),
 * so a difference in the table is a difference between the systems, not between two harnesses.
 */

export type ReadConsistency = 'linearizable' | 'serializable';

export interface ClusterTarget {
  /** The column header in the table, e.g. 'etcd'. */
  readonly name: string;
  /** One client URL per node, in node order. */
  readonly endpoints: readonly string[];
  /** Starts every node and resolves once the cluster has elected a leader. */
  start(): Promise<void>;
  /** Writes key = value through the node at endpointIndex; resolves once the write is committed, rejects on an error or timeout. */
  put(endpointIndex: number, key: string, value: Uint8Array): Promise<void>;
  /** Reads key through the node at endpointIndex; rejects on an error or timeout. */
  get(endpointIndex: number, key: string, consistency: ReadConsistency): Promise<void>;
  /** The index of the current leader; rejects when the nodes that answer do not agree on a live leader. */
  leaderIndex(): Promise<number>;
  /** Sends SIGKILL to the node's process (before the first await) and resolves once it has exited. */
  kill(nodeIndex: number): Promise<void>;
  /** Starts a killed node again on its data directory; resolves once the process runs, not once it has caught up. */
  restart(nodeIndex: number): Promise<void>;
  /** Kills every node and removes the data directories; safe after a failed start and when called twice. */
  stop(): Promise<void>;
}

/** What the harness tells every target, so that all of them run on the same addresses. */
export interface TargetOptions {
  /** One loopback address per node; each target picks its own ports. */
  readonly hosts: readonly string[];
  /**
   * Where to write a V8 CPU profile per node process (`--cpu-prof`), for targets that run on
   * Node.js; the nodes are then stopped with SIGTERM so that they write it.
   */
  readonly profileDir?: string;
}

export type TargetFactory = (options: TargetOptions) => ClusterTarget;
