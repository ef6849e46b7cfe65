/**
 * A simulated cluster: real RaftNode drivers on virtual disks, a virtual network and virtual
 * clocks. It can crash a node (its clock's timers die and its disk loses unsynced writes),
 * restart it from what its disk kept, and add fresh nodes that join as learners.
 */
import { Prng } from '../util/prng.js';
import { RaftNode, bootstrapState, emptyState, type NodeObserver } from '../node/index.js';
import type { NodeId, RaftConfig } from '../raft/index.js';
import { SafetyChecker } from './checkers/safety.js';
import { VirtualDisk } from './disk.js';
import { SimNetwork } from './network.js';
import { RegisterMachine, type RegisterResult } from './register-machine.js';
import type { Scheduler } from './scheduler.js';
import type { Trace } from './trace.js';

export interface SimNode {
  readonly id: NodeId;
  readonly disk: VirtualDisk;
  machine: RegisterMachine;
  node: RaftNode<RegisterResult> | null;
  dispose: () => void;
  /** Removed from the cluster for good; never restarted. */
  retired: boolean;
}

export interface ClusterOptions {
  readonly raft?: Partial<Omit<RaftConfig, 'electionTicks' | 'heartbeatTicks'>>;
  readonly requestTimeoutMs: number;
}

export class SimCluster {
  readonly nodes = new Map<NodeId, SimNode>();
  readonly network: SimNetwork;
  readonly checker: SafetyChecker;
  private nextNodeNumber: number;

  constructor(
    readonly scheduler: Scheduler,
    private readonly prng: Prng,
    readonly trace: Trace,
    initialVoters: number,
    private readonly options: ClusterOptions,
  ) {
    this.network = new SimNetwork(scheduler, prng.fork(), trace);
    this.checker = new SafetyChecker(() => scheduler.now());
    this.network.onSnapshotLost = (from, to) => this.nodes.get(from)?.node?.reportSnapshot(to, false);
    const voters = Array.from({ length: initialVoters }, (_, i) => `n${i + 1}`);
    this.nextNodeNumber = initialVoters + 1;
    const initial = bootstrapState(voters, new RegisterMachine().snapshot());
    for (const id of voters) this.nodes.set(id, this.createSlot(id, new VirtualDisk(scheduler, prng.fork(), initial)));
  }

  async startAll(): Promise<void> {
    for (const id of this.nodes.keys()) await this.start(id);
  }

  /** Start (or restart after a crash) a node from what its disk holds. */
  async start(id: NodeId): Promise<void> {
    const slot = this.slot(id);
    if (slot.node !== null || slot.retired) return;
    const clock = this.scheduler.clock();
    // Encoding a snapshot takes up to 40 simulated ms, during which the node goes on applying.
    slot.machine = new RegisterMachine((done) => this.scheduler.after(this.prng.int(0, 40), done));
    // The new incarnation re-applies from its snapshot; the checker must know before it does.
    this.checker.restarted(id, slot.disk.snapshotIndex());
    const node = await RaftNode.start({
      id,
      storage: slot.disk,
      transport: this.network.transport(id),
      clock,
      stateMachine: slot.machine,
      prng: this.prng.fork(),
      raft: this.options.raft ?? {},
      requestTimeoutMs: this.options.requestTimeoutMs,
      observer: this.observer(),
    });
    slot.node = node;
    slot.dispose = () => clock.dispose();
    this.network.attach(id, (m) => node.receive(m));
    this.trace.record(this.scheduler.now(), `${id} start`);
  }

  crash(id: NodeId): void {
    const slot = this.slot(id);
    if (slot.node === null) return;
    this.network.detach(id);
    slot.node.stop();
    slot.dispose();
    slot.disk.crash();
    slot.node = null;
    this.trace.record(this.scheduler.now(), `${id} crash`);
  }

  /** Remove a node from the simulation for good (after its removal from the configuration). */
  retire(id: NodeId): void {
    this.crash(id);
    this.slot(id).retired = true;
  }

  /** A new, empty node that can be added to the configuration as a learner. */
  async addFreshNode(): Promise<NodeId> {
    const id = `n${this.nextNodeNumber++}`;
    this.nodes.set(id, this.createSlot(id, new VirtualDisk(this.scheduler, this.prng.fork(), emptyState)));
    await this.start(id);
    return id;
  }

  live(): SimNode[] {
    return [...this.nodes.values()].filter((s) => s.node !== null);
  }

  liveIds(): NodeId[] {
    return this.live().map((s) => s.id);
  }

  memberIds(): NodeId[] {
    return [...this.nodes.values()].filter((s) => !s.retired).map((s) => s.id);
  }

  /** The live node that believes it leads in the highest term (an oracle for the simulator). */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    let bestTerm = -1;
    for (const slot of this.live()) {
      const status = slot.node?.basicStatus();
      if (status?.role === 'leader' && status.term > bestTerm) {
        best = slot;
        bestTerm = status.term;
      }
    }
    return best;
  }

  checkLogs(): void {
    this.checker.checkLogs(this.live().flatMap((s) => (s.node === null ? [] : [s.node.core])));
  }

  private slot(id: NodeId): SimNode {
    const slot = this.nodes.get(id);
    if (slot === undefined) throw new RangeError(`no simulated node ${id}`);
    return slot;
  }

  private createSlot(id: NodeId, disk: VirtualDisk): SimNode {
    return { id, disk, machine: new RegisterMachine(), node: null, dispose: () => undefined, retired: false };
  }

  private observer(): NodeObserver {
    const now = (): number => this.scheduler.now();
    const coreOf = (id: NodeId): RaftNode<RegisterResult> | null => this.nodes.get(id)?.node ?? null;
    return {
      ready: (id, rd) => {
        const node = coreOf(id);
        if (node === null) return;
        if (rd.softState !== null) {
          this.trace.record(now(), `${id} ${rd.softState.role} leader=${String(rd.softState.leader)} term=${rd.softState.term}`);
          if (rd.softState.role === 'leader') this.checker.leaderElected(id, rd.softState.term, node.core);
        }
        if (rd.hardState !== null) this.checker.commitAdvanced(id, rd.hardState.commit, node.core);
      },
      applied: (id, entry) => {
        this.checker.applied(id, entry);
      },
      restored: (id, snapshot) => {
        this.trace.record(now(), `${id} restored snapshot ${snapshot.meta.index}`);
        this.checker.restored(id, snapshot);
      },
      fatal: (id, error) => {
        this.checker.violations.push(`node ${id} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      },
    };
  }
}
