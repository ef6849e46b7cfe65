/**
 * A synchronous, in-process network of consensus cores for unit and scenario tests, in the
 * spirit of etcd-io/raft's test network: messages are delivered in order until the network is
 * quiet, persistence is instant, and links can be cut. No driver, no timers: the tests decide
 * exactly which ticks and messages happen.
 */
import { Prng } from '../../src/util/prng.js';
import { Raft, type Entry, type Message, type NodeId, type RaftConfig, type Snapshot } from '../../src/raft/index.js';

export interface TestNode {
  readonly raft: Raft;
  /** Entries this node applied, in order (what its state machine saw). */
  readonly applied: Entry[];
  readonly readStates: { index: number; context: string }[];
}

export class TestNetwork {
  readonly nodes = new Map<NodeId, TestNode>();
  private readonly blocked = new Set<string>();
  /** Message types that are dropped everywhere (e.g. to stop replication in a test). */
  readonly dropTypes = new Set<Message['type']>();
  /** Every message delivered, for tests that count traffic. */
  readonly delivered: Message[] = [];
  private inbox: Message[] = [];

  constructor(voters: readonly NodeId[], config: Partial<RaftConfig> = {}, seed = 1) {
    const snapshot: Snapshot = { meta: { index: 1, term: 1, conf: { voters: [...voters], learners: [] } }, data: new Uint8Array() };
    let n = seed;
    for (const id of voters) this.add(id, new Raft({ id, prng: new Prng(n++), config, hardState: { term: 1, vote: null, commit: 1 }, snapshot, entries: [] }));
  }

  add(id: NodeId, raft: Raft): TestNode {
    const node: TestNode = { raft, applied: [], readStates: [] };
    this.nodes.set(id, node);
    return node;
  }

  /** A node with nothing on disk, ready to be added as a learner. */
  addEmpty(id: NodeId, config: Partial<RaftConfig> = {}): TestNode {
    return this.add(id, new Raft({ id, prng: new Prng(99), config, hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] }));
  }

  node(id: NodeId): TestNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  raft(id: NodeId): Raft {
    return this.node(id).raft;
  }

  /** Cut both directions between a and b. */
  cut(a: NodeId, b: NodeId): void {
    this.blocked.add(`${a}>${b}`);
    this.blocked.add(`${b}>${a}`);
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other);
  }

  heal(): void {
    this.blocked.clear();
    this.dropTypes.clear();
  }

  /** Process every node's Ready (instant persistence) and deliver messages until quiet. */
  settle(limit = 100_000): void {
    for (let round = 0; round < limit; round++) {
      for (const [, node] of this.nodes) this.drainReady(node);
      if (this.inbox.length === 0) return;
      const batch = this.inbox;
      this.inbox = [];
      for (const m of batch) this.deliver(m);
    }
    throw new Error('network did not settle');
  }

  /** Tick one node n times, settling after each tick. */
  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) {
      this.raft(id).tick();
      this.settle();
    }
  }

  /** Tick every node n times, settling after each round. */
  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const node of this.nodes.values()) node.raft.tick();
      this.settle();
    }
  }

  /** Make `id` campaign by ticking it alone past any election timeout, then settle. */
  elect(id: NodeId): void {
    const raft = this.raft(id);
    for (let i = 0; i < 1000 && raft.basicStatus().role !== 'leader'; i++) {
      raft.tick();
      this.settle();
    }
    if (raft.basicStatus().role !== 'leader') throw new Error(`${id} did not become leader`);
  }

  propose(id: NodeId, text: string): number {
    const { index } = this.raft(id).propose([new TextEncoder().encode(text)]);
    this.settle();
    return index;
  }

  private drainReady(node: TestNode): void {
    while (node.raft.hasReady()) {
      const rd = node.raft.ready();
      this.inbox.push(...rd.messages);
      node.applied.push(...rd.committedEntries);
      node.readStates.push(...rd.readStates);
      node.raft.advance();
    }
  }

  private deliver(m: Message): void {
    if (this.blocked.has(`${m.from}>${m.to}`) || this.dropTypes.has(m.type)) return;
    const target = this.nodes.get(m.to);
    if (target === undefined) return;
    this.delivered.push(m);
    target.raft.step(m);
  }
}

export function text(entry: Entry): string {
  return entry.type === 'normal' ? new TextDecoder().decode(entry.data) : `conf:${entry.change.type}:${entry.change.nodeId}`;
}
