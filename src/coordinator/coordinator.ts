/**
 * The embeddable library (seed 001): one ClusterCoordinator per node wires the Raft engine,
 * the replicated KV, the peer transport and health tracking. Point three coordinators at each
 * other, start them in any order, and read the cluster's state and metrics.
 */
import { EventEmitter } from 'node:events';
import { ServerNode, type KvService } from '../server/index.js';
import type { ConfState } from '../raft/index.js';
import { QuorateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { toServerConfig, type ClusterConfig } from './config.js';
import { KvHandle } from './kv-handle.js';

export type NodeHealth = 'Healthy' | 'Degraded' | 'Unreachable';

export interface ClusterNodeState {
  readonly id: string;
  readonly address: string;
  readonly voter: boolean;
  readonly isLeader: boolean;
}

export interface ClusterState {
  readonly leader: string | null;
  readonly term: number;
  readonly nodes: readonly ClusterNodeState[];
}

export interface ClusterMetrics {
  readonly consensusMetrics: {
    readonly entriesAppended: number;
    readonly entriesCommitted: number;
    readonly lastAppliedIndex: number;
    readonly electionCount: number;
    readonly leaderChanges: number;
  };
  readonly healthMetrics: {
    readonly peers: readonly { readonly id: string; readonly lastHeartbeatMsAgo: number | null; readonly status: NodeHealth }[];
  };
}

export interface ClusterEvents {
  leaderChanged: [event: { readonly leader: string | null; readonly term: number }];
  membershipChanged: [event: { readonly voters: readonly string[]; readonly learners: readonly string[] }];
}

export class ClusterCoordinator extends EventEmitter<ClusterEvents> {
  readonly kv: KvHandle;
  private node: ServerNode | null = null;

  private constructor(
    readonly config: ClusterConfig,
    private readonly log: Logger | undefined,
  ) {
    super();
    this.kv = new KvHandle(() => this.service());
  }

  /** Validate the configuration; nothing starts until start(). */
  static create(config: ClusterConfig, options: { log?: Logger } = {}): ClusterCoordinator {
    toServerConfig(config);
    return new ClusterCoordinator(config, options.log);
  }

  /**
   * Open the data directory and start taking part: form the cluster with the peers (waiting
   * until each founding peer has answered once), join an existing one, or resume.
   */
  async start(): Promise<void> {
    if (this.node !== null) return;
    const node = await ServerNode.start(toServerConfig(this.config), this.log === undefined ? {} : { log: this.log });
    node.events.on('leaderChanged', (leader, term) => this.emit('leaderChanged', { leader, term }));
    node.events.on('membershipChanged', (conf: ConfState) => this.emit('membershipChanged', { voters: conf.voters, learners: conf.learners }));
    this.node = node;
  }

  /** Stop; a leader hands leadership over first so the others keep writing without a pause. */
  async stop(): Promise<void> {
    const node = this.node;
    this.node = null;
    await node?.stop({ transferLeadership: true });
  }

  getState(): ClusterState {
    const status = this.started().status();
    return {
      leader: status.leader,
      term: status.term,
      nodes: status.members.map((m) => ({ id: m.id, address: m.peerAddress, voter: m.voter, isLeader: m.id === status.leader })),
    };
  }

  getMetrics(): ClusterMetrics {
    const node = this.started();
    const status = node.status();
    return {
      consensusMetrics: {
        entriesAppended: node.counters.entriesAppended,
        entriesCommitted: status.commitIndex,
        lastAppliedIndex: status.appliedIndex,
        electionCount: node.counters.electionsStarted,
        leaderChanges: node.counters.leaderChanges,
      },
      healthMetrics: {
        peers: status.members
          .filter((m) => m.id !== status.id)
          .map((m) => ({ id: m.id, lastHeartbeatMsAgo: m.lastContactMs, status: m.health === 'healthy' ? 'Healthy' : m.health === 'degraded' ? 'Degraded' : 'Unreachable' })),
      },
    };
  }

  private service(): KvService {
    return this.started().service;
  }

  private started(): ServerNode {
    if (this.node === null) throw new QuorateError('not_started', 'the coordinator is not started; call start() first');
    return this.node;
  }
}
