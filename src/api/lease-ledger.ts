/**
 * Live leases per principal (issue 9): a token may hold `leasesPerPrincipalMax` leases granted
 * through this node; the next grant is refused with 429 too_many_leases until one of them is
 * revoked or expires. Without it one client could fill the cluster's lease table (leasesMax,
 * shared by everyone) and every other client's grants would fail.
 *
 * The count lives here, on the node that answers the grant, and not in the replicated state,
 * because a lease in the state machine records no owner: no node can derive a token's leases
 * from what it applied, and putting the owner there would change the command format and the
 * snapshots of every node. So this ledger never takes part in a replicated decision: it refuses
 * before anything is proposed, and the state machine stays a function of the log alone. The
 * price is that the limit holds per node (a client that grants through three nodes may hold
 * three times as many, still within leasesMax) and is lost when the node restarts.
 *
 * A lease counts from its grant until this node learns that it is gone: a revoke through this
 * node, or any lease request here answered lease_not_found. Leases that expire, or are revoked
 * through another node, are noticed lazily: each lease has a deadline (its TTL after the last
 * grant, keep-alive or time-to-live answer seen here), and only when a principal is at its limit
 * does the ledger ask the leader about up to `checksMax` leases past their deadline, dropping
 * those that no longer exist. A lease kept alive through another node is found alive and keeps
 * counting, so moving keep-alives elsewhere does not escape the limit.
 */
import { performance } from 'node:perf_hooks';
import type { KvService } from '../server/index.js';
import type { KvFailure, LeaseGrantResponse } from '../state/index.js';
import { ApiError } from './errors.js';

export const defaultLeasesPerPrincipalMax = 10_000;
/** Leases checked with the leader per grant made at the limit: bounds the work one request causes. */
const checksMax = 64;
/** How soon a lease the leader reports without a countdown (just granted, or expiring) is checked again. */
const recheckMs = 1000;

export interface LeaseCounts {
  /** Leases this node counts for some principal. */
  readonly tracked: number;
  /** Grants refused for leasesPerPrincipalMax since start. */
  readonly refused: number;
}

interface Holdings {
  /** Lease id to the moment (performance.now) after which it may have expired. */
  readonly deadlines: Map<number, number>;
  /** Grants proposed and not answered yet: they count, or concurrent grants could overshoot. */
  pending: number;
}

export class LeaseLedger {
  private readonly byPrincipal = new Map<string, Holdings>();
  private refused = 0;

  constructor(
    private readonly service: KvService,
    private readonly leasesPerPrincipalMax: number,
  ) {}

  counts(): LeaseCounts {
    let tracked = 0;
    for (const holdings of this.byPrincipal.values()) tracked += holdings.deadlines.size;
    return { tracked, refused: this.refused };
  }

  /** Runs `grant` for `principal` if it is under its limit, and counts the lease it got. */
  async grant(principal: string, grant: () => Promise<LeaseGrantResponse | KvFailure>): Promise<LeaseGrantResponse | KvFailure> {
    if (this.held(this.holdings(principal)) >= this.leasesPerPrincipalMax) await this.dropGone(this.holdings(principal));
    // Looked up again: while the leader was asked, gone() may have dropped an emptied entry.
    const holdings = this.holdings(principal);
    if (this.held(holdings) >= this.leasesPerPrincipalMax) {
      this.refused++;
      this.forgetIfEmpty(principal, holdings);
      throw new ApiError(
        'too_many_leases',
        `this token already holds ${this.leasesPerPrincipalMax} leases granted through this node (leasesPerPrincipalMax); revoke leases it no longer needs, or attach more keys to one lease`,
      );
    }
    holdings.pending++;
    try {
      const result = await grant();
      if (result.ok) holdings.deadlines.set(result.id, this.deadline(result.ttlSeconds));
      return result;
    } finally {
      holdings.pending--;
      this.forgetIfEmpty(principal, holdings);
    }
  }

  /** A lease request here found the lease alive with `ttlSeconds` left (-1: no countdown known). */
  alive(id: number, ttlSeconds: number): void {
    for (const holdings of this.byPrincipal.values()) if (holdings.deadlines.has(id)) holdings.deadlines.set(id, this.deadline(ttlSeconds));
  }

  /** The lease was revoked here, or a request here found it missing. */
  gone(id: number): void {
    for (const [principal, holdings] of this.byPrincipal) {
      holdings.deadlines.delete(id);
      this.forgetIfEmpty(principal, holdings);
    }
  }

  private held(holdings: Holdings): number {
    return holdings.deadlines.size + holdings.pending;
  }

  private deadline(ttlSeconds: number): number {
    return performance.now() + (ttlSeconds > 0 ? ttlSeconds * 1000 : recheckMs);
  }

  /**
   * Asks the leader about leases past their deadline and drops those that no longer exist. When
   * the leader cannot be asked, the error goes to the client: a grant could not commit either.
   */
  private async dropGone(holdings: Holdings): Promise<void> {
    const now = performance.now();
    const due = [...holdings.deadlines].filter(([, deadline]) => deadline <= now).slice(0, checksMax);
    await Promise.all(
      due.map(async ([id]) => {
        const answer = await this.service.leaseTimeToLive(id);
        if ('ok' in answer) {
          if (answer.code === 'lease_not_found') holdings.deadlines.delete(id);
        } else if (holdings.deadlines.has(id)) holdings.deadlines.set(id, this.deadline(answer.ttlSeconds));
      }),
    );
  }

  private holdings(principal: string): Holdings {
    let holdings = this.byPrincipal.get(principal);
    if (holdings === undefined) {
      holdings = { deadlines: new Map(), pending: 0 };
      this.byPrincipal.set(principal, holdings);
    }
    return holdings;
  }

  private forgetIfEmpty(principal: string, holdings: Holdings): void {
    if (holdings.deadlines.size === 0 && holdings.pending === 0) this.byPrincipal.delete(principal);
  }
}
