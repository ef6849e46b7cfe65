/**
 * What the cluster benchmark needs from a system under test: three nodes on loopback that it
 * can write to, read from, crash, grow by a fourth and weigh. Every target is driven by the same client code (run.ts),
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
  /**
   * Adds a node on the options' joinHost by the system's own procedure (it joins as a learner,
   * catches up and is promoted) and resolves, once the cluster counts it as a voter, with the
   * seconds from the start of the procedure (the first step the cluster accepted) to then.
   */
  join(): Promise<number>;
  /** Removes the joined node from the cluster, stops it and deletes its data, so that join() can run again. */
  removeJoined(): Promise<void>;
  /** The process ids of the three nodes, in node order; rejects when one is not running. */
  pids(): Promise<readonly number[]>;
  /**
   * When profiling: stops every node gracefully, so that each writes the profile of what it has
   * done so far, starts them again on their data and resolves once they have a leader.
   * Otherwise does nothing.
   */
  flushProfiles(): Promise<void>;
  /** Kills every node and removes the data directories; safe after a failed start and when called twice. */
  stop(): Promise<void>;
}

/** What the harness tells every target, so that all of them run on the same addresses. */
export interface TargetOptions {
  /** One loopback address per node; each target picks its own ports. */
  readonly hosts: readonly string[];
  /** The loopback address of the node join() adds. */
  readonly joinHost: string;
  /** etcd only: mutual TLS between its peers, as Quorate's peers always have (false: plain HTTP). */
  readonly peerTls: boolean;
  /**
   * Where to write a V8 CPU profile per node process (`--cpu-prof`), for targets that run on
   * Node.js; the nodes are then stopped with SIGTERM so that they write it.
   */
  readonly profileDir?: string;
}

export type TargetFactory = (options: TargetOptions) => ClusterTarget;
