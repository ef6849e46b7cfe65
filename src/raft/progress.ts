/**
 * The leader's view of one follower (etcd-io/raft's Progress): how far its log matches, what to
 * send next, and the flow-control state that decides how much may be in flight.
 *
 * - probe: we do not know where the follower's log matches; send one append per heartbeat
 *   interval and wait for the answer.
 * - replicate: the follower is in sync; pipeline appends optimistically, bounded by the number
 *   and bytes of unacknowledged appends (Inflights).
 * - snapshot: the follower needs entries we compacted; a snapshot is on its way.
 */
import { assert } from '../util/assert.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** Unacknowledged appends to one follower: the last index and bytes of each, oldest first. */
export class Inflights {
  private readonly indexes: number[] = [];
  private readonly sizes: number[] = [];
  private bytes = 0;

  constructor(
    private readonly countMax: number,
    private readonly bytesMax: number,
  ) {}

  full(): boolean {
    return this.indexes.length >= this.countMax || this.bytes >= this.bytesMax;
  }

  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), 'adding to full inflights');
    const previous = this.indexes[this.indexes.length - 1];
    assert(previous === undefined || lastIndex > previous, `inflight ${lastIndex} not after ${previous}`);
    this.indexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** Forget appends acknowledged up to and including `index`. */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.indexes.length && (this.indexes[n] ?? Infinity) <= index) {
      this.bytes -= this.sizes[n] ?? 0;
      n++;
    }
    this.indexes.splice(0, n);
    this.sizes.splice(0, n);
  }

  /** Forget the oldest unacknowledged append, whatever it covered. */
  freeFirstOne(): void {
    this.bytes -= this.sizes[0] ?? 0;
    this.indexes.shift();
    this.sizes.shift();
  }

  reset(): void {
    this.indexes.length = 0;
    this.sizes.length = 0;
    this.bytes = 0;
  }
}

export class Progress {
  /** Highest index known to be replicated on the follower (Figure 2, matchIndex). */
  match = 0;
  /** Index of the next entry to send (Figure 2, nextIndex). */
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an append was sent this heartbeat interval; wait before sending another. */
  probeSent = false;
  /** In snapshot state: the index of the snapshot being sent, and ticks spent waiting for it. */
  pendingSnapshot = 0;
  snapshotTicks = 0;
  /** Leader tick at which the follower last answered anything (CheckQuorum). */
  lastActiveTick = 0;
  /** Leader tick at which the newest heartbeat this follower acknowledged was sent (lease). */
  heartbeatAckTick = -Infinity;
  readonly inflights: Inflights;

  constructor(
    next: number,
    inflightsMax: number,
    inflightBytesMax: number,
  ) {
    this.next = next;
    this.inflights = new Inflights(inflightsMax, inflightBytesMax);
  }

  becomeProbe(): void {
    // After a snapshot the follower holds at least the snapshot; probe from just after it.
    const from = this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.resetState('probe');
    this.next = from;
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotTicks = 0;
    this.inflights.reset();
  }

  /** A successful append response up to `index`. Returns false if it told us nothing new. */
  maybeUpdate(index: number): boolean {
    const updated = index > this.match;
    if (updated) {
      this.match = index;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** Optimistically advance `next` after sending entries up to `lastIndex` (pipelining). */
  sentEntries(lastIndex: number, bytes: number): void {
    if (this.state === 'replicate') {
      this.inflights.add(lastIndex, bytes);
      this.next = lastIndex + 1;
    } else {
      this.probeSent = true;
    }
  }

  /**
   * A rejected append for `rejected` with the follower's hint. Returns false for a stale
   * rejection (one about an index we already moved past).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** Whether sending appends must wait (probe already sent, pipeline full, or snapshot in flight). */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
