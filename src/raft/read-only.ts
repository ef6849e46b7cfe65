/**
 * Linearizable reads by ReadIndex (thesis section 6.4): the leader records its commit index for
 * a read, confirms it is still the leader with one round of heartbeats carrying the read's
 * context, and releases the read once a majority has answered that round. Reads are released in
 * arrival order: a quorum answering a later round also confirms every earlier one.
 */
import type { NodeId } from './types.js';

export interface ReadRequest {
  readonly context: string;
  readonly index: number;
  /** The node that asked: the leader itself or a follower that forwarded a client's read. */
  readonly from: NodeId;
  readonly acks: Set<NodeId>;
}

export class ReadOnlyQueue {
  private readonly pending = new Map<string, ReadRequest>();
  private readonly order: string[] = [];

  constructor(private readonly requestsMax: number) {}

  size(): number {
    return this.order.length;
  }

  full(): boolean {
    return this.order.length >= this.requestsMax;
  }

  add(context: string, index: number, from: NodeId, self: NodeId): void {
    if (this.pending.has(context)) return;
    this.pending.set(context, { context, index, from, acks: new Set([self]) });
    this.order.push(context);
  }

  /** The context of the newest pending read, which a heartbeat round confirms (with all older). */
  lastContext(): string {
    return this.order[this.order.length - 1] ?? '';
  }

  /** Record a heartbeat acknowledgement; returns the acks so far for the read, if pending. */
  ack(context: string, from: NodeId): ReadonlySet<NodeId> | undefined {
    const request = this.pending.get(context);
    request?.acks.add(from);
    return request?.acks;
  }

  /** Remove and return every read up to and including `context`, oldest first. */
  releaseThrough(context: string): ReadRequest[] {
    const at = this.order.indexOf(context);
    if (at < 0) return [];
    const released = this.order.splice(0, at + 1).map((ctx) => this.pending.get(ctx));
    for (const request of released) if (request !== undefined) this.pending.delete(request.context);
    return released.filter((r): r is ReadRequest => r !== undefined);
  }

  clear(): void {
    this.pending.clear();
    this.order.length = 0;
  }
}
