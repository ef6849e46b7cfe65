/**
 * The replicated part of leases: which leases exist, their granted TTL and the keys attached
 * to them. Expiry is deliberately absent. Apply may not read a clock, so the leader tracks each
 * lease's deadline locally (keep-alives go to the leader and are not logged) and proposes a
 * leaseRevoke when a TTL runs out; every replica then deletes the attached keys at the same
 * revision. A new leader restarts every lease's countdown at its full TTL, as etcd does, so a
 * leader change can only extend a lease, never cut it short.
 */
import { binaryToBytes } from './keys.js';
import type { LeaseInfo } from './types.js';

interface LeaseRecord {
  readonly id: number;
  readonly ttlSeconds: number;
  readonly keys: Set<string>;
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class LeaseTable {
  private leases = new Map<number, LeaseRecord>();

  get size(): number {
    return this.leases.size;
  }

  has(id: number): boolean {
    return this.leases.has(id);
  }

  grant(id: number, ttlSeconds: number): void {
    this.leases.set(id, { id, ttlSeconds, keys: new Set() });
  }

  /** Remove a lease; returns its attached keys in key order so deletion order is canonical. */
  revoke(id: number): string[] {
    const lease = this.leases.get(id);
    this.leases.delete(id);
    return lease === undefined ? [] : [...lease.keys].sort(byString);
  }

  /** Attached keys of a lease, in key order. */
  keysOf(id: number): string[] {
    return [...(this.leases.get(id)?.keys ?? [])].sort(byString);
  }

  attach(id: number, key: string): void {
    this.leases.get(id)?.keys.add(key);
  }

  detach(id: number, key: string): void {
    this.leases.get(id)?.keys.delete(key);
  }

  get(id: number): LeaseInfo | null {
    const lease = this.leases.get(id);
    return lease === undefined ? null : { id, ttlSeconds: lease.ttlSeconds, keys: this.keysOf(id).map(binaryToBytes) };
  }

  /** Lease id -> granted TTL, without the keys: what the leader's countdown needs, cheaply. */
  ttls(): Map<number, number> {
    return new Map([...this.leases].map(([id, lease]) => [id, lease.ttlSeconds]));
  }

  /** Every lease in id order (Map order depends on history, which a restore does not keep). */
  list(): LeaseInfo[] {
    return [...this.leases.keys()].sort((a, b) => a - b).flatMap((id) => this.get(id) ?? []);
  }

  clear(): void {
    this.leases = new Map();
  }
}
