/**
 * Cluster events from this node's own Raft state, looked at once per housekeeping round:
 * `leader_elected` when it learns of a leader it had not announced (a new one, or the same node
 * in a new term), and `quorum_lost` / `quorum_regained`.
 *
 * Quorum is lost, as this node sees it, when it has known no leader for `quorumLossElections`
 * election timeouts. A node cut off from the majority, or left in a minority, knows no leader as
 * soon as it starts an election of its own (PreVote keeps its term, but clears its leader), and
 * a leader that cannot reach a majority steps down after one election timeout (CheckQuorum).
 * An ordinary election takes a round trip, one that splits the vote another election timeout or
 * two; three timeouts without a leader is no election any more. Quorum is regained when a
 * leader is known again. A node that starts without a leader (its peers are not up yet) counts
 * from its start: a cluster that cannot form reports quorum lost too.
 */
import type { EventFact } from './events.js';

export const quorumLossElections = 3;

export class LeadershipEvents {
  /** The leader and term last announced; null before the first. */
  private announced: { readonly leader: string; readonly term: number } | null = null;
  /** Since when (ms, monotonic) no leader has been known; null while one is. */
  private leaderlessSince: number | null = null;
  private quorumLost = false;

  constructor(
    private readonly electionTimeoutMs: number,
    private readonly record: (fact: EventFact) => void,
  ) {}

  observe(leader: string | null, term: number, nowMs: number): void {
    if (leader === null) {
      this.leaderlessSince ??= nowMs;
      const leaderlessMs = nowMs - this.leaderlessSince;
      if (!this.quorumLost && leaderlessMs >= quorumLossElections * this.electionTimeoutMs) {
        this.quorumLost = true;
        const seconds = (leaderlessMs / 1000).toFixed(1);
        this.record({ type: 'quorum_lost', term, message: `no quorum: no leader is known for ${seconds} s. Writes are refused until a majority is back` });
      }
      return;
    }
    this.leaderlessSince = null;
    if (this.announced?.leader !== leader || this.announced.term !== term) {
      this.announced = { leader, term };
      this.record({ type: 'leader_elected', node: leader, term, message: `${leader} was elected leader (term ${term})` });
    }
    if (this.quorumLost) {
      this.quorumLost = false;
      this.record({ type: 'quorum_regained', node: leader, term, message: `quorum regained: ${leader} leads (term ${term})` });
    }
  }
}
