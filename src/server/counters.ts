/**
 * Seed 001's consensus metrics, counted from what the driver observes: entries appended to
 * this node's log, elections this node started, and leader changes it saw. Indexes (commit,
 * applied) are read from the core when asked, so they are never stale.
 */
import type { Ready } from '../raft/index.js';

export class ConsensusCounters {
  entriesAppended = 0;
  electionsStarted = 0;
  leaderChanges = 0;
  private lastLeader: string | null = null;

  observe(rd: Ready): void {
    this.entriesAppended += rd.entries.length;
    const soft = rd.softState;
    if (soft === null) return;
    if (soft.role === 'candidate') this.electionsStarted++;
    if (soft.leader !== null && soft.leader !== this.lastLeader) this.leaderChanges++;
    if (soft.leader !== null) this.lastLeader = soft.leader;
  }
}
