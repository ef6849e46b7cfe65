/**
 * The configuration (voters and learners) and the leader's per-member Progress, with the quorum
 * arithmetic built on them: the commit index a majority has replicated, the outcome of an
 * election, and whether a majority has been heard from recently (CheckQuorum).
 */
import { assert } from '../util/assert.js';
import { Progress } from './progress.js';
import { applyConfChange, type ConfChange, type ConfState, type NodeId } from './types.js';

export type VoteResult = 'won' | 'lost' | 'pending';

export interface InflightLimits {
  readonly inflightMessagesMax: number;
  readonly inflightBytesMax: number;
}

export class ProgressTracker {
  private readonly voterSet = new Set<NodeId>();
  private readonly learnerSet = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();

  constructor(
    conf: ConfState,
    private readonly limits: InflightLimits,
  ) {
    this.setConf(conf);
  }

  setConf(conf: ConfState): void {
    this.voterSet.clear();
    this.learnerSet.clear();
    for (const id of conf.voters) this.voterSet.add(id);
    for (const id of conf.learners) this.learnerSet.add(id);
    assert(![...this.voterSet].some((id) => this.learnerSet.has(id)), 'a node is both voter and learner');
  }

  confState(): ConfState {
    return { voters: [...this.voterSet].sort(), learners: [...this.learnerSet].sort() };
  }

  isVoter(id: NodeId): boolean {
    return this.voterSet.has(id);
  }

  isMember(id: NodeId): boolean {
    return this.voterSet.has(id) || this.learnerSet.has(id);
  }

  voters(): NodeId[] {
    return [...this.voterSet];
  }

  members(): NodeId[] {
    return [...this.voterSet, ...this.learnerSet];
  }

  quorum(): number {
    return Math.floor(this.voterSet.size / 2) + 1;
  }

  /** Throws a description of why `change` does not fit the configuration, or returns. */
  validate(change: ConfChange): string | null {
    const id = change.nodeId;
    switch (change.type) {
      case 'addLearner':
        return this.isMember(id) ? `${id} is already a member` : null;
      case 'promote':
        return this.learnerSet.has(id) ? null : `${id} is not a learner`;
      case 'remove':
        if (!this.isMember(id)) return `${id} is not a member`;
        return this.voterSet.size === 1 && this.voterSet.has(id) ? `${id} is the last voter` : null;
    }
  }

  apply(change: ConfChange): void {
    this.setConf(applyConfChange(this.confState(), change));
    if (change.type === 'remove') this.progress.delete(change.nodeId);
  }

  /** Fresh progress for every member, as a new leader (or a reset follower) starts with. */
  resetProgress(lastIndex: number): void {
    this.progress.clear();
    for (const id of this.members()) this.ensureProgress(id, lastIndex);
  }

  /** Progress for a member that has none yet (a member added by a configuration change). */
  ensureProgress(id: NodeId, lastIndex: number): Progress {
    let pr = this.progress.get(id);
    if (pr === undefined) {
      pr = new Progress(lastIndex + 1, this.limits.inflightMessagesMax, this.limits.inflightBytesMax);
      this.progress.set(id, pr);
    }
    return pr;
  }

  /** The largest index replicated on a majority of voters (section 5.3, 5.4.2 is the caller's). */
  committedIndex(): number {
    const matches = this.voters()
      .map((id) => this.progress.get(id)?.match ?? 0)
      .sort((a, b) => b - a);
    return matches[this.quorum() - 1] ?? 0;
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteResult {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voterSet) {
      const vote = this.votes.get(id);
      if (vote === true) granted++;
      if (vote === false) rejected++;
    }
    if (granted >= this.quorum()) return 'won';
    if (rejected > this.voterSet.size - this.quorum()) return 'lost';
    return 'pending';
  }

  /**
   * The newest leader tick `t` such that a majority of voters has `tickOf(progress) >= t`; the
   * leader itself counts with `selfTick`. With lastActiveTick this says when a quorum was last
   * heard from; with heartbeatAckTick, from when a quorum's leases are known to run.
   */
  quorumTick(self: NodeId, selfTick: number, tickOf: (pr: Progress) => number): number {
    const ticks = this.voters()
      .map((id) => (id === self ? selfTick : (this.progress.get(id) === undefined ? -Infinity : tickOf(this.progress.get(id) as Progress))))
      .sort((a, b) => b - a);
    return ticks[this.quorum() - 1] ?? -Infinity;
  }

  /** Whether the given set of acknowledging voters forms a majority. */
  hasQuorum(ids: ReadonlySet<NodeId>): boolean {
    let n = 0;
    for (const id of this.voterSet) if (ids.has(id)) n++;
    return n >= this.quorum();
  }
}
