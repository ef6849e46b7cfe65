/**
 * Lease time, kept by the leader. The replicated state knows each lease's granted TTL; when
 * it runs out is the leader's decision, taken with its own clock and applied through the log
 * as a revoke, so every replica deletes the attached keys at the same revision (DESIGN.md,
 * "State machines": no clock in apply).
 *
 * A new leader cannot know how much time its predecessor had left on each lease, so it gives
 * every lease a full TTL again when it takes over, as etcd does: a lease may outlive its TTL
 * by up to one TTL across a leader change, but never expires early.
 */
import type { LeaseInfo } from '../state/index.js';

export interface LeaseKeeperContext {
  now(): number;
  /** Whether this node leads now (asked on every call, not only at the periodic round). */
  isLeader(): boolean;
  /** Every lease in the applied state: id -> granted TTL in seconds. */
  leaseTtls(): ReadonlyMap<number, number>;
  /** Propose the revoke of an expired lease; never rejects (it logs failures itself). */
  revoke(id: number): Promise<void>;
}

export class LeaseKeeper {
  /** Lease id -> monotonic time (ms) at which it expires; only meaningful on the leader. */
  private readonly deadlines = new Map<number, number>();
  private readonly revoking = new Set<number>();
  private leading = false;

  constructor(private readonly ctx: LeaseKeeperContext) {}

  /**
   * Follows this node's leadership. Every entry point calls it first: a keep-alive that reaches
   * a node which has just won an election must not be refused because the periodic round has
   * not run since.
   */
  private syncLeadership(): void {
    const leading = this.ctx.isLeader();
    if (leading === this.leading) return;
    this.leading = leading;
    this.deadlines.clear();
    if (!leading) return;
    const now = this.ctx.now();
    for (const [id, ttlSeconds] of this.ctx.leaseTtls()) this.deadlines.set(id, now + ttlSeconds * 1000);
  }

  /** Restart the countdown; false when the lease is unknown or already expiring. */
  keepAlive(lease: LeaseInfo): boolean {
    this.syncLeadership();
    if (!this.leading || this.revoking.has(lease.id)) return false;
    this.deadlines.set(lease.id, this.ctx.now() + lease.ttlSeconds * 1000);
    return true;
  }

  /** Seconds left, rounded up; -1 when this node does not lead or the lease is being revoked. */
  remainingSeconds(lease: LeaseInfo): number {
    this.syncLeadership();
    if (!this.leading || this.revoking.has(lease.id)) return -1;
    // A lease granted since the last round starts its countdown now (expire() would do the same).
    let deadline = this.deadlines.get(lease.id);
    if (deadline === undefined) {
      deadline = this.ctx.now() + lease.ttlSeconds * 1000;
      this.deadlines.set(lease.id, deadline);
    }
    return Math.max(0, Math.ceil((deadline - this.ctx.now()) / 1000));
  }

  /**
   * Start counting down leases granted since the last call, forget revoked ones, and propose
   * revokes for every lease past its deadline; called periodically on the leader. A lease is
   * first seen here at most one period after its grant applied, which only lengthens it.
   */
  expire(): void {
    this.syncLeadership();
    if (!this.leading) return;
    const now = this.ctx.now();
    const live = this.ctx.leaseTtls();
    for (const id of this.deadlines.keys()) if (!live.has(id)) this.deadlines.delete(id);
    for (const [id, ttlSeconds] of live) {
      const deadline = this.deadlines.get(id);
      if (deadline === undefined) this.deadlines.set(id, now + ttlSeconds * 1000);
      else if (deadline <= now && !this.revoking.has(id)) this.startRevoke(id);
    }
  }

  private startRevoke(id: number): void {
    this.revoking.add(id);
    // On failure (leadership lost, no quorum) the lease stays past its deadline and the next
    // round proposes the revoke again; the context logs the error.
    void this.ctx.revoke(id).finally(() => this.revoking.delete(id));
  }
}
