/**
 * The fault injector. A run enables a random subset of fault kinds ("swarm testing": some seeds
 * hammer one kind, others mix them) and the nemesis applies one every few hundred milliseconds
 * of virtual time, each healing itself after a while.
 */
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
  'leaderChurn',
  'figure8',
  'membership',
  'transfer',
  'slowDisk',
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
      case 'slowDisk': {
        const live = this.cluster.live();
        if (live.length === 0) return;
        const victim = this.prng.pick(live);
        const maxMs = 20 + this.prng.int(0, 300);
        victim.disk.stall(maxMs);
        this.note(`slowDisk ${victim.id} up to ${maxMs} ms`);
        this.later(200, 2000, () => victim.disk.stall(null));
        return;
      }
      case 'crash':
        this.crash(members.length);
        return;
      case 'figure8':
        this.figure8();
        return;
      case 'leaderChurn':
        this.churnLeaders(this.cluster.scheduler.now() + this.prng.int(300, 2000), '');
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

  /**
   * Crash every newly elected leader within a few milliseconds, for a while: leaders die in the
   * middle of replicating their first entries, the pattern of the paper's Figure 8.
   */
  private churnLeaders(until: number, lastVictim: string): void {
    if (!this.active || this.cluster.scheduler.now() > until) return;
    const leader = this.cluster.leader();
    const key = leader === undefined ? '' : `${leader.id}@${leader.node?.basicStatus().term ?? 0}`;
    if (leader !== undefined && key !== lastVictim && this.cluster.live().length > Math.floor(this.cluster.memberIds().length / 2) + 1) {
      // Half the time before the leader's first append leaves (its no-op stays local).
      this.later(0, this.prng.chance(0.5) ? 1 : 15, () => {
        this.note(`churn crash ${leader.id}`);
        this.cluster.crash(leader.id);
        this.later(10, 300, () => void this.cluster.start(leader.id));
      });
      this.cluster.scheduler.after(1, () => this.churnLeaders(until, key));
      return;
    }
    this.cluster.scheduler.after(1, () => this.churnLeaders(until, lastVictim));
  }

  /**
   * The schedule of the paper's Figure 8, with the timing left to the seed. (a) The leader A
   * is cut off while clients still write to it, so its log grows an uncommitted tail, and it
   * crashes. (b) A new leader B is elected and cut off at once, so its no-op conflicts with A's
   * tail but stays local, and it crashes too. (c) A restarts and, with the other nodes seeing
   * only A, wins the next term and replicates its tail; it crashes the moment its commit index
   * moves. (d) B restarts and everything heals. A correct leader's commit index first moves
   * with its own term's no-op, which stops B from winning; a leader that commits an old-term
   * entry by counting replicas lets B win and overwrite it.
   */
  private figure8(): void {
    const a = this.cluster.leader();
    const voters = a?.node?.status().conf.voters ?? [];
    if (a === undefined || voters.length < 3 || this.cluster.live().length < this.cluster.memberIds().length) return;
    const net = this.cluster.network;
    const others = voters.filter((id) => id !== a.id);
    this.note(`figure8 isolate ${a.id}`);
    net.isolate(a.id, voters);
    this.later(20, 150, () => {
      this.cluster.crash(a.id);
      net.heal();
      this.waitFor(2000, () => this.cluster.leader(), (b) => {
        this.note(`figure8 isolate new leader ${b.id}`);
        net.isolate(b.id, voters);
        this.later(5, 10, () => {
          this.cluster.crash(b.id);
          this.figure8Return(a.id, b.id, others.filter((id) => id !== b.id));
        });
      });
    });
  }

  private figure8Return(a: string, b: string, rest: readonly string[]): void {
    this.returnAsOnlyCandidate(a, rest, (leader) => {
      const electedCommit = leader.node?.basicStatus().commit ?? 0;
      this.waitFor(1000, () => ((leader.node?.basicStatus().commit ?? 0) > electedCommit ? leader : undefined), () => {
        this.note(`figure8 crash ${a} at commit ${leader.node?.basicStatus().commit ?? -1}`);
        this.cluster.crash(a);
        this.returnAsOnlyCandidate(b, rest, () => {
          this.cluster.network.heal();
          this.later(100, 1000, () => void this.cluster.start(a));
        });
      });
    });
  }

  /** Restart `id` while the nodes in `rest` see only it, so that only it can gather votes. */
  private returnAsOnlyCandidate(id: string, rest: readonly string[], then: (leader: NonNullable<ReturnType<SimCluster['leader']>>) => void): void {
    const net = this.cluster.network;
    net.heal();
    net.partition(rest.map((other) => [other]));
    void this.cluster.start(id);
    const slot = this.cluster.nodes.get(id);
    this.waitFor(3000, () => (slot?.node?.basicStatus().role === 'leader' ? slot : undefined), then);
  }

  /** Poll every 0.1 ms until `probe` yields a value (then `then`) or `timeoutMs` passes (heal). */
  private waitFor<T>(timeoutMs: number, probe: () => T | undefined, then: (value: T) => void): void {
    const deadline = this.cluster.scheduler.now() + timeoutMs;
    const poll = (): void => {
      if (!this.active) return;
      const value = probe();
      if (value !== undefined) then(value);
      else if (this.cluster.scheduler.now() > deadline) this.cluster.network.heal();
      else this.cluster.scheduler.after(0.1, poll);
    };
    poll();
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
      if (!isQuorateError(error)) throw error;
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
