/**
 * Failed authentication attempts per client address (issue 9): after `failuresMax` failures from
 * one address within `windowMs`, that address is refused until the window has passed, so tokens
 * cannot be guessed at the speed of the network. The HTTP API and the etcd-compatible gRPC API
 * each keep one, with the same limits.
 */
import { performance } from 'node:perf_hooks';

const windowMs = 60_000;
const failuresMax = 20;
/** Addresses tracked at most; the oldest entry goes first (a flood of addresses cannot grow it). */
const addressesMax = 10_000;

export class FailedAttempts {
  private readonly failures = new Map<string, { since: number; count: number }>();

  /** Seconds until `address` may try again, or null when it may try now. */
  blockedFor(address: string): number | null {
    const now = performance.now();
    const recent = this.failures.get(address);
    if (recent === undefined) return null;
    if (now - recent.since >= windowMs) {
      this.failures.delete(address);
      return null;
    }
    return recent.count >= failuresMax ? Math.ceil((recent.since + windowMs - now) / 1000) : null;
  }

  fail(address: string): void {
    const record = this.failures.get(address);
    if (record !== undefined) {
      record.count++;
      return;
    }
    if (this.failures.size >= addressesMax) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    this.failures.set(address, { since: performance.now(), count: 1 });
  }
}
