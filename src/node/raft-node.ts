/**
 * The node driver: the only code that connects the consensus core to storage, transport, clock
 * and state machine. It runs the Ready loop (persist, send, apply, advance; what may overlap
 * is in Ready's comment), turns proposals and reads into promises, takes snapshots, and
 * converts milliseconds into core ticks.
 *
 * While one Ready is being persisted, new messages and proposals keep stepping into the core;
 * the next Ready carries all of them, so one fsync covers many proposals (group commit).
 */
import { assert } from '../util/assert.js';
import { QuorateError } from '../util/errors.js';
import { joinChunks } from '../util/bytes.js';
import type { Prng } from '../util/prng.js';
import { Raft, RaftError, sendableBeforePersist, type ConfChange, type Proposed, type Entry, type Message, type NodeId, type RaftConfig, type Ready, type Snapshot, type SnapshotMeta } from '../raft/index.js';
import type { Clock, LogStorage, PersistedState, StateMachine, Timer, Transport } from './interfaces.js';

export interface NodeTimings {
  /** The core's unit of time. Smaller ticks randomize election timeouts more finely. */
  readonly tickMs: number;
  readonly heartbeatMs: number;
  /** Base election timeout; the actual one is random in [electionMs, electionMs * (1 + electionJitter)). */
  readonly electionMs: number;
}

/** Seed 001's defaults: heartbeat 100 ms, election timeout 300 ms. */
export const defaultTimings: NodeTimings = { tickMs: 10, heartbeatMs: 100, electionMs: 300 };

/** Observation hooks for metrics and for the simulator's checkers. */
export interface NodeObserver {
  /**
   * The core just produced this Ready; the core's state (role, term, log) is still the one the
   * Ready describes, which is what checkers must look at. It is not yet durable.
   */
  ready?(id: NodeId, rd: Ready): void;
  applied?(id: NodeId, entry: Entry): void;
  restored?(id: NodeId, snapshot: Snapshot): void;
  /** A stored snapshot could not be read back to send it to a follower; it is offered again later. */
  snapshotUnreadable?(id: NodeId, error: unknown): void;
  fatal?(id: NodeId, error: unknown): void;
}

export interface RaftNodeOptions<R> {
  readonly id: NodeId;
  readonly storage: LogStorage;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly stateMachine: StateMachine<R>;
  readonly prng: Prng;
  readonly timings?: Partial<NodeTimings>;
  readonly raft?: Partial<Omit<RaftConfig, 'electionTicks' | 'heartbeatTicks'>>;
  /** Pending proposals and reads fail with Timeout after this long. */
  readonly requestTimeoutMs?: number;
  readonly observer?: NodeObserver;
}

interface Waiter<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (error: Error) => void;
  readonly deadline: number;
}

interface ProposalWaiter<R> extends Waiter<R> {
  readonly term: number;
}

/** One ReadIndex request to the core and the reads it answers. */
interface ReadRound {
  readonly waiters: Waiter<undefined>[];
  /** The read index once the core answered; the reads go when the state machine reaches it. */
  index: number | null;
}

export class RaftNode<R = unknown> {
  readonly id: NodeId;
  private readonly raft: Raft;
  private readonly options: RaftNodeOptions<R>;
  private readonly timings: NodeTimings;
  private readonly proposals = new Map<number, ProposalWaiter<R>>();
  /** ReadIndex rounds asked of the core, by context. */
  private readonly reads = new Map<string, ReadRound>();
  /** Reads that arrived while a round was in flight: they go together in the next one. */
  private readQueue: Waiter<undefined>[] = [];
  /** The round whose answer the queued reads wait for, and when it was asked. */
  private readInFlight: { readonly context: string; readonly startedAt: number } | null = null;
  private readCounter = 0;
  private ticker: Timer | null = null;
  private processing = false;
  private stopped = false;

  private constructor(options: RaftNodeOptions<R>, raft: Raft, timings: NodeTimings) {
    this.id = options.id;
    this.options = options;
    this.raft = raft;
    this.timings = timings;
  }

  /** Load durable state, restore the state machine from the snapshot, and start ticking. */
  static async start<R>(options: RaftNodeOptions<R>): Promise<RaftNode<R>> {
    const timings = { ...defaultTimings, ...options.timings };
    const persisted = await options.storage.load();
    const raft = new Raft({
      id: options.id,
      prng: options.prng,
      config: { ...options.raft, ...ticksFor(timings) },
      hardState: persisted.hardState,
      snapshot: persisted.snapshot,
      entries: persisted.entries,
    });
    if (persisted.snapshot !== null) options.stateMachine.restore(persisted.snapshot.data);
    const node = new RaftNode(options, raft, timings);
    // Start ticking at a random phase: nodes whose ticks were aligned would time out together
    // whenever they draw the same election timeout.
    node.scheduleTick(timings.tickMs * options.prng.next());
    node.kick();
    return node;
  }

  /** Stop ticking and fail every pending request. Durable state stays as it is. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ticker?.cancel();
    this.ticker = null;
    const error = new QuorateError('Stopped', `node ${this.id} stopped before the request completed; its outcome is unknown`);
    for (const waiter of this.proposals.values()) waiter.reject(error);
    for (const waiter of [...this.reads.values()].flatMap((round) => round.waiters)) waiter.reject(error);
    for (const waiter of this.readQueue) waiter.reject(error);
    this.proposals.clear();
    this.reads.clear();
    this.readQueue = [];
  }

  /** A message from a peer, delivered by the transport. */
  receive(m: Message): void {
    if (this.stopped) return;
    this.raft.step(m);
    this.sendHeartbeatsNow();
    this.kick();
  }

  /**
   * Replicate `data` and resolve with the state machine's result once it is committed and
   * applied here. Throws NotLeader (with the leader's id when known) on a follower.
   */
  propose(data: Uint8Array): Promise<R> {
    this.assertRunning();
    return this.awaitApplied(this.raft.propose([data]));
  }

  /** Propose a membership change; resolves when it is applied on this node. */
  proposeConfChange(change: ConfChange): Promise<R> {
    this.assertRunning();
    return this.awaitApplied(this.raft.proposeConfChange(change));
  }

  /**
   * Resolves when the local state machine reflects every write committed before the call:
   * reading it then is linearizable (ReadIndex, or the leader lease when configured).
   *
   * Reads share ReadIndex rounds, as etcd's server does: with no round in flight a read asks
   * for one at once (and throws ReadUnavailable here when no leader is known); otherwise it
   * waits for the round after the one in flight, which starts after it arrived, so its index
   * covers every write committed before the read. One round for many reads saves a heartbeat
   * broadcast and its answers per read, and on a follower a forwarded request per read.
   */
  read(): Promise<undefined> {
    this.assertRunning();
    let waiter: Waiter<undefined> | undefined;
    const promise = new Promise<undefined>((resolve, reject) => {
      waiter = { resolve, reject, deadline: this.deadline() };
    });
    assert(waiter !== undefined, 'a promise executor runs at once');
    if (this.readInFlight === null) this.startReadRound([waiter]);
    else this.readQueue.push(waiter);
    this.kick();
    return promise;
  }

  /** The transport finished (ok) or lost a snapshot stream to `to`. */
  reportSnapshot(to: NodeId, ok: boolean): void {
    if (this.stopped) return;
    this.raft.reportSnapshot(to, ok);
    this.kick();
  }

  transferLeader(target: NodeId): void {
    this.assertRunning();
    this.raft.transferLeader(target);
    this.kick();
  }

  status(): ReturnType<Raft['status']> {
    return this.raft.status();
  }

  basicStatus(): ReturnType<Raft['basicStatus']> {
    return this.raft.basicStatus();
  }

  /** The core, for checkers and tests that inspect the log. */
  get core(): Raft {
    return this.raft;
  }

  isStopped(): boolean {
    return this.stopped;
  }

  // ---------------------------------------------------------------------------------------------

  /** A promise for the result of applying the entry just appended at (index, term). */
  private awaitApplied({ index, term }: Proposed): Promise<R> {
    // An older proposal of ours at this index was truncated from our log to make room for this
    // one; as we lead now without it, it can never commit (leader completeness).
    this.proposals.get(index)?.reject(replaced(index));
    const promise = new Promise<R>((resolve, reject) => {
      this.proposals.set(index, { resolve, reject, term, deadline: this.deadline() });
    });
    this.kick();
    return promise;
  }

  private assertRunning(): void {
    if (this.stopped) throw new QuorateError('Stopped', `node ${this.id} is stopped`);
  }

  /** Ask the core for a read index for `waiters`; throws what readIndex throws, registering nothing. */
  private startReadRound(waiters: Waiter<undefined>[]): void {
    const context = `${this.id}/${++this.readCounter}`;
    this.raft.readIndex(context);
    this.reads.set(context, { waiters, index: null });
    this.readInFlight = { context, startedAt: this.options.clock.now() };
    this.sendHeartbeatsNow();
  }

  /**
   * Start the round the queued reads wait for, once the one in flight was answered or has taken
   * longer than an election timeout: its request or answer may have been lost (a dropped
   * message, a leader that stepped down), and the queued reads must not wait on it forever.
   */
  private maybeStartQueuedReads(): void {
    const inFlight = this.readInFlight;
    if (inFlight !== null && this.reads.get(inFlight.context)?.index === null && this.options.clock.now() - inFlight.startedAt < this.timings.electionMs) return;
    this.readInFlight = null;
    if (this.readQueue.length === 0) return;
    const waiters = this.readQueue;
    this.readQueue = [];
    try {
      this.startReadRound(waiters);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const waiter of waiters) waiter.reject(failure);
    }
  }

  private deadline(): number {
    return this.options.clock.now() + (this.options.requestTimeoutMs ?? 5000);
  }

  private scheduleTick(delayMs = this.timings.tickMs): void {
    this.ticker = this.options.clock.setTimeout(() => {
      if (this.stopped) return;
      this.raft.tick();
      this.sendHeartbeatsNow();
      this.expireRequests();
      this.maybeStartQueuedReads();
      this.kick();
      this.scheduleTick();
    }, delayMs);
  }

  private expireRequests(): void {
    const now = this.options.clock.now();
    const timeout = (what: string): QuorateError => new QuorateError('Timeout', `${what} timed out on node ${this.id}; it may or may not have taken effect`);
    for (const [index, waiter] of this.proposals) {
      if (waiter.deadline > now) continue;
      this.proposals.delete(index);
      waiter.reject(timeout('proposal'));
    }
    const expired = (waiter: Waiter<undefined>): boolean => {
      if (waiter.deadline > now) return false;
      waiter.reject(timeout('read'));
      return true;
    };
    for (const [context, round] of this.reads) {
      const waiting = round.waiters.filter((waiter) => !expired(waiter));
      if (waiting.length === 0) this.reads.delete(context);
      else round.waiters.splice(0, round.waiters.length, ...waiting);
    }
    this.readQueue = this.readQueue.filter((waiter) => !expired(waiter));
  }

  /**
   * While the Ready loop waits for storage, heartbeats and their answers go out at once instead
   * of after the write (Raft.takeHeartbeats): a stalled disk must not look like a dead node.
   */
  private sendHeartbeatsNow(): void {
    if (!this.processing) return;
    const heartbeats = this.raft.takeHeartbeats();
    if (heartbeats.length > 0) this.send(heartbeats);
  }

  /** Run the Ready loop unless it is already running (it picks up whatever is new). */
  private kick(): void {
    if (this.processing || this.stopped) return;
    this.processing = true;
    this.processReadies().then(
      () => {
        this.processing = false;
        // A snapshot that became durable as the loop was finishing waits for no Ready.
        this.recordOwnSnapshot();
        // Work that arrived after the loop's last check (a client proposing again as soon as
        // its previous proposal resolved) would otherwise wait for the next tick.
        if (!this.stopped && this.raft.hasReady()) this.kick();
      },
      (error: unknown) => {
        this.processing = false;
        this.options.observer?.fatal?.(this.id, error);
        this.stop();
      },
    );
  }

  /** The background encoding and persistence of the last snapshot taken, while it runs. */
  private snapshotting: Promise<void> | null = null;
  /**
   * Own snapshots recorded in the core without their bytes, which are durable in storage:
   * they are read back only when one is sent to a follower. At a million keys the bytes are
   * 270 MB that would otherwise stay in memory beside the state they encode.
   */
  private readonly dataOnDisk = new WeakSet<Snapshot>();
  /** An own snapshot, durable, waiting for the Ready loop to record it in the core (keepSnapshot). */
  private ownSnapshot: { readonly snapshot: Snapshot; readonly recorded: (compactIndex: number) => void } | null = null;

  private async processReadies(): Promise<void> {
    while (!this.stopped && this.raft.hasReady()) {
      const rd = this.raft.ready();
      this.options.observer?.ready?.(this.id, rd);
      const early = rd.messages.filter(sendableBeforePersist);
      this.send(early);
      // Committed entries that were durable here before this Ready are applied while it is
      // persisted: applying a committed entry depends on nothing this Ready writes. On a leader
      // the Ready that carries a new commit index writes only that index (no fsync), and
      // applying after it held every acknowledgement for a WAL write (0.2-0.3 ms of a 1.6 ms
      // write at 1 client). Entries this Ready itself persists still wait for it.
      const firstUnstable = rd.entries[0]?.index ?? Infinity;
      const applyNow = rd.snapshot === null ? rd.committedEntries.filter((entry) => entry.index < firstUnstable) : [];
      for (const entry of applyNow) this.applyEntry(entry);
      if (rd.hardState !== null || rd.entries.length > 0 || rd.snapshot !== null) {
        await this.options.storage.save({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot, sync: rd.mustSync });
        // stop() may have run while the write was in flight.
        if (this.isStopped()) return;
      }
      this.send(early.length === 0 ? rd.messages : rd.messages.filter((m) => !sendableBeforePersist(m)));
      if (rd.snapshot !== null) this.restoreSnapshot(rd.snapshot);
      for (const entry of rd.committedEntries.slice(applyNow.length)) this.applyEntry(entry);
      for (const rs of rd.readStates) this.readIndexKnown(rs.context, rs.index);
      this.raft.advance();
      this.recordOwnSnapshot();
      this.releaseReads();
      this.maybeStartQueuedReads();
      if (rd.snapshotDue && this.snapshotting === null) this.takeSnapshot();
    }
  }

  private restoreSnapshot(snapshot: Snapshot): void {
    this.options.stateMachine.restore(snapshot.data);
    this.options.observer?.restored?.(this.id, snapshot);
    // Proposals the snapshot covers were decided elsewhere; we cannot tell their outcome.
    for (const [index, waiter] of this.proposals) {
      if (index > snapshot.meta.index) continue;
      this.proposals.delete(index);
      waiter.reject(new QuorateError('OutcomeUnknown', `proposal ${index} was overtaken by a snapshot from the leader; its outcome is unknown`));
    }
  }

  private applyEntry(entry: Entry): void {
    const result = this.options.stateMachine.apply(entry);
    this.options.observer?.applied?.(this.id, entry);
    const waiter = this.proposals.get(entry.index);
    if (waiter === undefined) return;
    this.proposals.delete(entry.index);
    if (waiter.term === entry.term) waiter.resolve(result);
    else waiter.reject(replaced(entry.index));
  }

  private readIndexKnown(context: string, index: number): void {
    const round = this.reads.get(context);
    if (round !== undefined) round.index = index;
  }

  private releaseReads(): void {
    const applied = this.raft.basicStatus().applied;
    for (const [context, round] of this.reads) {
      if (round.index === null || round.index > applied) continue;
      this.reads.delete(context);
      for (const waiter of round.waiters) waiter.resolve(undefined);
    }
  }

  /**
   * The core asked for a snapshot: capture the state now (it must be the state at the applied
   * index), then encode and persist it, record it in the core and compact the stored log, all
   * in the background. The Ready loop does not wait: on a loaded leader, encoding a million
   * keys took seconds and writing and fsyncing the file hundreds of milliseconds, during
   * which no heartbeat went out. Until the snapshot is recorded the core and the stored log
   * keep every entry it covers, so a crash in between loses nothing. A snapshot that comes due
   * while one is under way waits for the next Ready after it.
   */
  private takeSnapshot(): void {
    const meta = this.raft.snapshotPoint();
    if (meta === null) return;
    const machine = this.options.stateMachine;
    const encoded = machine.snapshotInBackground?.() ?? machine.snapshot();
    this.snapshotting = this.keepSnapshot(meta, encoded).then(
      () => {
        this.snapshotting = null;
      },
      (error: unknown) => {
        this.snapshotting = null;
        this.options.observer?.fatal?.(this.id, error);
        this.stop();
      },
    );
  }

  private async keepSnapshot(meta: SnapshotMeta, encoded: AsyncIterable<Uint8Array> | Uint8Array): Promise<void> {
    const storage = this.options.storage;
    const onDisk = storage.saveSnapshotChunks !== undefined && storage.loadSnapshot !== undefined;
    if (onDisk && !(encoded instanceof Uint8Array)) {
      await storage.saveSnapshotChunks?.(meta, encoded);
    } else {
      const data = encoded instanceof Uint8Array ? encoded : await joinChunks(encoded);
      if (this.isStopped()) return;
      await storage.saveSnapshot({ meta, data });
      if (!onDisk) return this.recordOwnSnapshotSoon({ meta, data });
    }
    const kept: Snapshot = { meta, data: new Uint8Array(0) };
    this.dataOnDisk.add(kept);
    return this.recordOwnSnapshotSoon(kept);
  }

  /** Record the snapshot in the core between Readies, then compact the stored log behind it. */
  private async recordOwnSnapshotSoon(kept: Snapshot): Promise<void> {
    if (this.isStopped()) return;
    const compactIndex = await new Promise<number>((recorded) => {
      this.ownSnapshot = { snapshot: kept, recorded };
      // The core must not change between ready() and advance(). The Ready loop only ever
      // waits there (on storage), so while it runs it records the snapshot after advance().
      if (!this.processing) this.recordOwnSnapshot();
    });
    if (this.isStopped()) return;
    await this.options.storage.compact(compactIndex);
  }

  private send(messages: readonly Message[]): void {
    const stored = messages.filter((m) => m.snapshot !== null && this.dataOnDisk.has(m.snapshot));
    this.options.transport.send(stored.length === 0 ? messages : messages.filter((m) => !stored.includes(m)));
    for (const m of stored) void this.sendStoredSnapshot(m);
  }

  /** A MsgSnap for a snapshot whose bytes are in storage: read them, then send. */
  private async sendStoredSnapshot(m: Message): Promise<void> {
    let loaded: Snapshot | null = null;
    try {
      if (m.snapshot !== null) loaded = (await this.options.storage.loadSnapshot?.(m.snapshot.meta)) ?? null;
    } catch (error) {
      this.options.observer?.snapshotUnreadable?.(this.id, error);
    }
    if (this.isStopped()) return;
    // Gone (a newer snapshot replaced it) or unreadable: the core tries again later with its latest.
    if (loaded === null) this.reportSnapshot(m.to, false);
    else this.options.transport.send([{ ...m, snapshot: loaded }]);
  }

  private recordOwnSnapshot(): void {
    const own = this.ownSnapshot;
    if (own === null) return;
    this.ownSnapshot = null;
    this.raft.compactTo(own.snapshot);
    own.recorded(this.raft.firstIndex() - 1);
  }
}

function replaced(index: number): RaftError {
  return new RaftError('ProposalDropped', `proposal ${index} was replaced by a new leader's entry; it did not take effect`);
}

function ticksFor(timings: NodeTimings): Pick<RaftConfig, 'electionTicks' | 'heartbeatTicks'> {
  const ticks = (ms: number, what: string): number => {
    const n = Math.round(ms / timings.tickMs);
    if (n < 1) throw new QuorateError('InvalidConfig', `${what} (${ms} ms) must be at least one tick (${timings.tickMs} ms)`);
    return n;
  };
  return { electionTicks: ticks(timings.electionMs, 'election timeout'), heartbeatTicks: ticks(timings.heartbeatMs, 'heartbeat interval') };
}

/**
 * The durable state of a brand-new cluster member that bootstraps the cluster: a snapshot of
 * the empty state machine at index 1, term 1, holding the initial voters. Every bootstrapping
 * node writes the same one, so their logs agree; a node that joins later gets it (or a newer
 * snapshot) from the leader, because no node has the entries before it.
 */
export function bootstrapState(voters: readonly NodeId[], emptyState: Uint8Array): PersistedState {
  assert(voters.length > 0, 'a cluster needs at least one voter');
  const snapshot: Snapshot = { meta: { index: 1, term: 1, conf: { voters: [...voters].sort(), learners: [] } }, data: emptyState };
  return { hardState: { term: 1, vote: null, commit: 1 }, snapshot, entries: [] };
}

/** The durable state of a node that will join an existing cluster: nothing at all. */
export const emptyState: PersistedState = { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] };
