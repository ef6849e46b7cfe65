/**
 * The fault injector. A run enables a random subset of fault kinds ("swarm testing": some seeds
 * hammer one kind, others mix them) and the nemesis applies one every few hundred milliseconds
 * of virtual time, each healing itself after a while.
 */
import { RaftError } from '../raft/index.js';
import { isQuorateError } from '../util/errors.js';
import type { Prng } from '../util/prng.js';
import type { SimCluster } from './cluster.js';

export const faultKinds = [
  'drop',
  'delay',
  'duplicate',
  'partition',
  'asymmetric',
  'bridge',
  'isolateLeader',
  'crash',
  'membership',
  'transfer',
] as const;

export type FaultKind = (typeof faultKinds)[number];

export class Nemesis {
  private active = true;
  actions = 0;

  constructor(
    private readonly cluster: SimCluster,
    private readonly prng: Prng,
    readonly kinds: readonly FaultKind[],
    private readonly intervalMs: readonly [number, number],
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.active = false;
  }

  private schedule(): void {
    const [lo, hi] = this.intervalMs;
    this.cluster.scheduler.after(this.prng.int(lo, hi), () => {
      if (!this.active || this.kinds.length === 0) return;
      this.inject(this.prng.pick(this.kinds));
      this.actions++;
      this.schedule();
    });
  }

  private later(minMs: number, maxMs: number, action: () => void): void {
    this.cluster.scheduler.after(this.prng.int(minMs, maxMs), () => {
      if (this.active) action();
    });
  }

  private note(text: string): void {
    this.cluster.trace.record(this.cluster.scheduler.now(), `nemesis ${text}`);
  }

  private inject(kind: FaultKind): void {
    const net = this.cluster.network;
    const members = this.cluster.memberIds();
    switch (kind) {
      case 'drop':
      case 'delay':
      case 'duplicate': {
        const f = net.faults;
        net.faults =
          kind === 'drop'
            ? { ...f, dropRate: this.prng.next() * 0.3 }
            : kind === 'delay'
              ? { ...f, delayMinMs: 0.1, delayMaxMs: 5 + this.prng.next() * 100 }
              : { ...f, duplicateRate: this.prng.next() * 0.2 };
        this.note(`${kind} ${JSON.stringify(net.faults)}`);
        this.later(200, 2000, () => {
          net.faults = { ...net.faults, ...(kind === 'drop' ? { dropRate: 0 } : kind === 'delay' ? { delayMinMs: 0.2, delayMaxMs: 2 } : { duplicateRate: 0 }) };
        });
        return;
      }
      case 'partition': {
        const shuffled = this.shuffle(members);
        const cut = this.prng.int(1, Math.max(2, shuffled.length));
        const groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
        net.partition(groups);
        this.note(`partition ${JSON.stringify(groups)}`);
        this.later(100, 3000, () => net.heal());
        return;
      }
      case 'asymmetric': {
        const [a, b] = this.shuffle(members);
        if (a === undefined || b === undefined) return;
        net.blockLink(a, b);
        this.note(`block ${a}->${b}`);
        this.later(100, 3000, () => net.heal());
        return;
      }
      case 'bridge': {
        // Two nodes cannot see each other, but both see every other node (the "bridge").
        const [a, b] = this.shuffle(members);
        if (a === undefined || b === undefined) return;
        net.partition([[a], [b]]);
        this.note(`bridge ${a} x ${b}`);
        this.later(200, 3000, () => net.heal());
        return;
      }
      case 'isolateLeader': {
        // The leader loses its peers, but clients still reach it: it must not serve stale reads
        // nor acknowledge writes it cannot replicate.
        const leader = this.cluster.leader();
        if (leader === undefined) return;
        net.isolate(leader.id, members);
        this.note(`isolate leader ${leader.id}`);
        this.later(200, 3000, () => net.heal());
        return;
      }
      case 'crash':
        this.crash(members.length);
        return;
      case 'membership':
        this.changeMembership();
        return;
      case 'transfer': {
        const leader = this.cluster.leader();
        const voters = leader?.node?.status().conf.voters.filter((v) => v !== leader.id) ?? [];
        if (leader?.node == null || voters.length === 0) return;
        const target = this.prng.pick(voters);
        this.note(`transfer ${leader.id} -> ${target}`);
        this.tolerate(() => leader.node?.transferLeader(target));
        return;
      }
    }
  }

  private crash(memberCount: number): void {
    const live = this.cluster.live();
    const down = memberCount - live.length;
    if (live.length === 0 || down >= Math.ceil(memberCount / 2)) return;
    const leader = this.cluster.leader();
    const victim = leader !== undefined && this.prng.chance(0.4) ? leader : this.prng.pick(live);
    this.cluster.crash(victim.id);
    this.later(50, 1500, () => void this.cluster.start(victim.id));
  }

  /** One step toward a different membership: add a learner, promote it, or remove a voter. */
  private changeMembership(): void {
    const leader = this.cluster.leader()?.node;
    if (leader == null) return;
    const status = leader.status();
    const { voters, learners } = status.conf;
    const learner = learners[0];
    if (learner !== undefined) {
      const match = status.progress.get(learner)?.match ?? 0;
      if (status.lastIndex - match > 20) return;
      this.note(`promote ${learner}`);
      this.tolerate(() => leader.proposeConfChange({ type: 'promote', nodeId: learner }));
      return;
    }
    if (voters.length < 5 && (voters.length < 3 || this.prng.chance(0.5))) {
      void this.cluster.addFreshNode().then((id) => {
        this.note(`add learner ${id}`);
        // A node the leader refused to add would sit idle forever; take it away again.
        if (!this.tolerate(() => leader.proposeConfChange({ type: 'addLearner', nodeId: id }))) this.cluster.retire(id);
      });
      return;
    }
    if (voters.length <= 3) return;
    const victim = this.prng.pick(voters);
    this.note(`remove ${victim}`);
    this.tolerate(() =>
      leader.proposeConfChange({ type: 'remove', nodeId: victim }).then(
        () => this.cluster.retire(victim),
        () => undefined,
      ),
    );
  }

  /** Refusals (not leader, change pending) are expected under faults; anything else is a bug. */
  private tolerate(action: () => unknown): boolean {
    try {
      const result = action();
      if (result instanceof Promise) result.catch(() => undefined);
      return true;
    } catch (error) {
      if (!(error instanceof RaftError) && !isQuorateError(error)) throw error;
      return false;
    }
  }

  private shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.prng.int(0, i + 1);
      const a = out[i] as T;
      out[i] = out[j] as T;
      out[j] = a;
    }
    return out;
  }
}
