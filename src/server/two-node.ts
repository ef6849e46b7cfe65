/**
 * Two-node clusters without an arbiter (seed 003 option 1, corosync's `two_node` with
 * `wait_for_all`), on when the fencing setup says `two_node = true`.
 *
 * Two voters have no majority to lose: when one fails the other cannot commit. This watch runs
 * on each of the pair: once no leader has been known for a while, it fences the peer with the
 * fence devices, and only when a device has turned the peer off does this node go on alone —
 * the server then rewrites its Raft state so that it is the only voter (sole-voter.ts) and
 * restarts its node. A watchdog cannot stand in for the device: across a broken link both
 * sides would wait out the same delay and both go on alone.
 *
 * Why going on alone loses nothing: with two voters every committed entry is on both, so the
 * survivor's log holds all of them. Three rules keep it that way:
 * - wait_for_all: a node may take over only after it has seen a leader of the pair since its
 *   process started. A node that was fenced and powered on again finds the survivor no longer
 *   counts it (no leader of the pair ever appears), so it can never take over with its stale
 *   log; it must be wiped and joined again. A pair started with one node missing waits too.
 * - a fence race (the link broke, both alive) is decided by a delay: the node whose id sorts
 *   second waits `tieBreakMs` longer, so the first one's device has turned it off by then;
 * - the node must be a voter of a two-voter configuration (a learner has no such guarantee).
 */
import type { RaftStatus } from '../raft/index.js';
import { isEnded, type FenceLevel, type FencingConfig } from '../state/index.js';
import { DiskStorage } from '../storage/index.js';
import type { Logger } from '../util/log.js';
import { replay, saveAsSoleVoter } from './sole-voter.js';

export interface FenceResult {
  readonly fenced: boolean;
  readonly detail: string;
}

export interface TwoNodeContext {
  readonly id: string;
  readonly status: () => RaftStatus;
  readonly fencing: () => FencingConfig;
  /** The peer's advertise address (for the fence devices' environment). */
  readonly addressOf: (id: string) => string;
  /** Monotonic milliseconds. */
  readonly now: () => number;
  readonly electionTimeoutMs: number;
  readonly fence: (levels: readonly FenceLevel[], target: { readonly id: string; readonly address: string }) => Promise<FenceResult>;
  /** A device fenced the peer: make this node the only voter (the server restarts the node). */
  readonly takeOver: (peer: string, detail: string) => void;
  readonly log: Logger;
}

/** The second node of a pair waits this much longer before fencing (Pacemaker's pcmk_delay_base). */
export const tieBreakMs = 3_000;
const retryMs = 10_000;

export class TwoNodeWatch {
  private pairSeen = false;
  private leaderlessSince: number | null = null;
  private fencing = false;
  private retryAt = 0;
  private tookOver = false;

  constructor(private readonly ctx: TwoNodeContext) {}

  /** Called every housekeeping round. */
  tick(): void {
    if (this.ctx.fencing().twoNode !== true || this.tookOver) return;
    const status = this.ctx.status();
    const peer = peerOf(status, this.ctx.id);
    if (peer === null) return;
    if (status.leader !== null) {
      this.pairSeen = true;
      this.leaderlessSince = null;
      return;
    }
    const now = this.ctx.now();
    this.leaderlessSince ??= now;
    if (!this.pairSeen || this.fencing || now < this.retryAt) return;
    const delay = 2 * this.ctx.electionTimeoutMs + (this.ctx.id > peer ? tieBreakMs : 0);
    if (now - this.leaderlessSince < delay) return;
    void this.fencePeer(peer);
  }

  /** For `cluster status`: why this node would not take over now, or null. */
  waiting(): string | null {
    if (this.ctx.fencing().twoNode !== true || this.pairSeen) return null;
    return peerOf(this.ctx.status(), this.ctx.id) === null ? null : `two_node: ${this.ctx.id} has not seen a leader of the pair since it started (wait_for_all), so it will not take over if its peer fails`;
  }

  private async fencePeer(peer: string): Promise<void> {
    this.fencing = true;
    const { levels } = this.ctx.fencing();
    this.ctx.log.log('warn', 'two_node: no leader and the peer is silent; fencing it before going on alone', { peer });
    try {
      const outcome = await this.ctx.fence(levels, { id: peer, address: this.ctx.addressOf(peer) });
      // The peer (or a healed link) may have brought a leader back meanwhile: then nothing is taken over.
      if (outcome.fenced && this.ctx.status().leader === null && peerOf(this.ctx.status(), this.ctx.id) === peer) {
        this.tookOver = true;
        this.ctx.log.log('warn', 'two_node: the peer is fenced; this node goes on as the only voter', { peer, detail: outcome.detail });
        this.ctx.takeOver(peer, outcome.detail);
        return;
      }
      if (!outcome.fenced) {
        this.ctx.log.log('error', 'two_node: cannot fence the peer, so this node cannot go on alone; retrying', { peer, detail: outcome.detail, retryInMs: retryMs });
        this.retryAt = this.ctx.now() + retryMs;
      }
    } finally {
      this.fencing = false;
    }
  }
}

/** The other voter when this node is one of exactly two voters, else null. */
function peerOf(status: RaftStatus, self: string): string | null {
  const { voters } = status.conf;
  if (voters.length !== 2 || !voters.includes(self)) return null;
  return voters.find((id) => id !== self) ?? null;
}

/**
 * Rewrites the stopped node's Raft state in `raftDir` so that `self` is the only voter, keeping
 * its whole log (see the top of this file), with the peer recorded as fenced and down and its
 * allocations lost (the scheduler then replaces them here).
 */
export async function goOnAlone(raftDir: string, self: string, peer: string, detail: string, atMs: number): Promise<void> {
  const storage = await DiskStorage.open({ dir: raftDir });
  try {
    const persisted = await storage.load();
    const replayed = replay(persisted, 'last', raftDir);
    const { workload, fencing } = replayed.state;
    fencing.apply({ op: 'fenceRecord', event: { node: peer, atMs, method: 'devices', outcome: 'fenced', detail: `two_node: ${self} fenced its peer and went on alone (${detail})` } });
    if (workload.node(peer) !== undefined) {
      workload.apply({ op: 'nodeStatus', id: peer, status: 'down' });
      const ids = workload
        .allocationsOn(peer)
        .filter((a) => !isEnded(a))
        .map((a) => a.id);
      if (ids.length > 0) workload.apply({ op: 'allocsLost', ids, message: `node ${peer} was fenced by its two_node peer ${self}` });
    }
    await saveAsSoleVoter(storage, persisted, replayed, self);
  } finally {
    await storage.close();
  }
}
