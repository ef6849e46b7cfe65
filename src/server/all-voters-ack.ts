/**
 * write_quorum = "all" (seed 001's replication factor 3 of 3): the leader acknowledges a write
 * only once every voter has it durably in its log, not just a majority. Commit still follows
 * the majority rule (Raft's safety does not change); this only delays the acknowledgement, so
 * a client that was told "done" knows that losing any one node (or all but one) loses none of
 * its acknowledged writes. The price is latency: every write waits for the slowest voter, and
 * while any voter is down writes fail with no_quorum after the request timeout.
 */
import type { RaftStatus } from '../raft/index.js';
import { serviceError } from './leader-route.js';

interface Waiter {
  readonly index: number;
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class AllVotersAck {
  private readonly waiters = new Set<Waiter>();

  constructor(
    private readonly status: () => RaftStatus,
    private readonly now: () => number,
  ) {}

  /** Resolves once every voter's match index reaches `index`. */
  wait(index: number, deadline: number): Promise<void> {
    if (this.reached(index)) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.add({ index, deadline, resolve, reject }));
  }

  /** Re-check the waiters; called when replication progress may have moved and on ticks. */
  check(): void {
    if (this.waiters.size === 0) return;
    const now = this.now();
    const match = this.lowestVoterMatch();
    for (const waiter of this.waiters) {
      if (match !== null && match >= waiter.index) waiter.resolve();
      else if (now >= waiter.deadline) {
        waiter.reject(serviceError('no_quorum', `write ${waiter.index} committed, but not every voter stored it in time (write_quorum = "all"); it will not be lost, but it is not acknowledged as all-durable`));
      } else continue;
      this.waiters.delete(waiter);
    }
  }

  rejectAll(error: Error): void {
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters.clear();
  }

  private reached(index: number): boolean {
    const match = this.lowestVoterMatch();
    return match !== null && match >= index;
  }

  /** The smallest match index over the voters, or null when this node does not lead. */
  private lowestVoterMatch(): number | null {
    const status = this.status();
    if (status.role !== 'leader') return null;
    let lowest = Infinity;
    for (const id of status.conf.voters) lowest = Math.min(lowest, status.progress.get(id)?.match ?? 0);
    return lowest;
  }
}
