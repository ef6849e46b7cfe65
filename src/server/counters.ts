/**
 * Seed 001's consensus metrics, counted from what the driver observes: entries appended to
 * this node's log, elections this node started, leader changes it saw, and the proposals this
 * node made as leader and what became of them. Indexes (commit, applied) are read from the
 * core when asked, so they are never stale.
 */
import type { Ready } from '../raft/index.js';

export class ConsensusCounters {
  entriesAppended = 0;
  electionsStarted = 0;
  leaderChanges = 0;
  /** Proposals appended to this leader's log that were then applied here. */
  proposalsCommitted = 0;
  /** Proposals appended to this leader's log that failed (timed out, replaced by a new leader's entry, node stopped). */
  proposalsFailed = 0;
  /** Proposals appended to this leader's log and not yet committed or failed. */
  proposalsPending = 0;
  private lastLeader: string | null = null;

  observe(rd: Ready): void {
    this.entriesAppended += rd.entries.length;
    const soft = rd.softState;
    if (soft === null) return;
    if (soft.role === 'candidate') this.electionsStarted++;
    if (soft.leader !== null && soft.leader !== this.lastLeader) this.leaderChanges++;
    if (soft.leader !== null) this.lastLeader = soft.leader;
  }

  /** Count a proposal from the moment it is in the log until its promise settles; answers the same promise. */
  proposal<T>(applied: Promise<T>): Promise<T> {
    this.proposalsPending++;
    const settled = (committed: boolean) => (): void => {
      this.proposalsPending--;
      if (committed) this.proposalsCommitted++;
      else this.proposalsFailed++;
    };
    // The caller handles the rejection on `applied` itself; this branch only counts it.
    void applied.then(settled(true), settled(false));
    return applied;
  }
}
