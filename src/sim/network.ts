/**
 * The simulated network between nodes: per-message delay (so messages reorder), loss and
 * duplication, and partitions as a set of blocked directed links (symmetric partitions block
 * both directions; asymmetric ones only one). Clients are not on this network: a node cut off
 * from its peers is still reachable by clients, as with a leader isolated behind a firewall.
 */
import type { Message, NodeId } from '../raft/index.js';
import type { Transport } from '../node/index.js';
import type { Prng } from '../util/prng.js';
import type { Scheduler } from './scheduler.js';
import type { Trace } from './trace.js';

export interface LinkFaults {
  readonly dropRate: number;
  readonly duplicateRate: number;
  readonly delayMinMs: number;
  readonly delayMaxMs: number;
}

export const healthyLinks: LinkFaults = { dropRate: 0, duplicateRate: 0, delayMinMs: 0.2, delayMaxMs: 2 };

export class SimNetwork {
  private readonly endpoints = new Map<NodeId, (m: Message) => void>();
  private readonly blocked = new Set<string>();
  faults: LinkFaults = healthyLinks;
  /**
   * Told about some lost snapshots, as a real transport learns that a snapshot stream broke;
   * the others are lost silently (the leader's snapshot timeout must recover those).
   */
  onSnapshotLost: ((from: NodeId, to: NodeId) => void) | null = null;
  delivered = 0;
  dropped = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly prng: Prng,
    private readonly trace: Trace,
  ) {}

  attach(id: NodeId, receive: (m: Message) => void): void {
    this.endpoints.set(id, receive);
  }

  detach(id: NodeId): void {
    this.endpoints.delete(id);
  }

  transport(from: NodeId): Transport {
    return { send: (messages) => { for (const m of messages) this.sendOne(from, m); } };
  }

  /** Block every link between different groups; nodes in no group keep all their links. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.blocked.add(linkKey(x, y));
      }
    }
  }

  blockLink(from: NodeId, to: NodeId): void {
    this.blocked.add(linkKey(from, to));
  }

  /** Cut a node off from every peer in `peers` in both directions. */
  isolate(id: NodeId, peers: readonly NodeId[]): void {
    for (const p of peers) {
      if (p === id) continue;
      this.blocked.add(linkKey(id, p));
      this.blocked.add(linkKey(p, id));
    }
  }

  heal(): void {
    this.blocked.clear();
    this.faults = healthyLinks;
  }

  private sendOne(from: NodeId, m: Message): void {
    if (this.blocked.has(linkKey(from, m.to)) || this.prng.chance(this.faults.dropRate)) {
      this.lost(m);
      return;
    }
    this.schedule(m);
    if (this.prng.chance(this.faults.duplicateRate)) this.schedule(m);
  }

  private lost(m: Message): void {
    this.dropped++;
    const report = this.onSnapshotLost;
    // Later, as a real stream notices the break, not from inside the sender's send() call.
    if (m.type === 'MsgSnap' && report !== null && this.prng.chance(0.5)) this.scheduler.after(1, () => report(m.from, m.to));
  }

  private schedule(m: Message): void {
    const { delayMinMs, delayMaxMs } = this.faults;
    const delay = delayMinMs + this.prng.next() * (delayMaxMs - delayMinMs);
    this.scheduler.after(delay, () => {
      // A partition that began while the message was in flight loses it too.
      const receive = this.endpoints.get(m.to);
      if (receive === undefined || this.blocked.has(linkKey(m.from, m.to))) {
        this.lost(m);
        return;
      }
      this.delivered++;
      this.trace.record(this.scheduler.now(), `${m.from}->${m.to} ${m.type} t${m.term} i${m.index} n${m.entries.length} c${m.commit}${m.reject ? ' R' : ''}`);
      receive(m);
    });
  }
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}>${to}`;
}
