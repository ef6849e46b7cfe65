/**
 * The four seams between the node driver and the outside world. Production implements them
 * with files, TCP and the system clock; the simulator with virtual disks, a virtual network and
 * virtual time. The driver is the same code in both, so simulation tests the real glue.
 */
import type { Entry, HardState, Message, Snapshot, SnapshotMeta } from '../raft/index.js';

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since an arbitrary origin; only differences are meaningful. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): Timer;
}

/** What a node finds on its disk when it starts. */
export interface PersistedState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  /** Entries after the snapshot (possibly including some it covers), in index order. */
  readonly entries: readonly Entry[];
}

export interface LogUpdate {
  readonly hardState: HardState | null;
  /** Entries to append; an entry whose index already exists replaces it and everything after. */
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader: it replaces the whole log. */
  readonly snapshot: Snapshot | null;
  /** Whether the update must be durable (fsync) before the promise resolves. */
  readonly sync: boolean;
}

export interface LogStorage {
  load(): Promise<PersistedState>;
  /**
   * Resolves once the update is durable (when `sync`). Without `sync` (the core asks for none
   * when only the commit index changed, which Raft need not keep across a crash) storage may
   * hold the update back and write it with the next one.
   */
  save(update: LogUpdate): Promise<void>;
  /**
   * Durably record a snapshot this node took of its own state machine. May run while save()
   * calls proceed (the driver does not wait for it before appending more).
   */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /**
   * Optional, with loadSnapshot: saveSnapshot for bytes that arrive in chunks as the state
   * machine encodes them (snapshotInBackground), written as they come.
   */
  saveSnapshotChunks?(meta: SnapshotMeta, chunks: AsyncIterable<Uint8Array>): Promise<void>;
  /**
   * Optional, with saveSnapshotChunks: read back a snapshot this node saved, or null if it is
   * no longer kept. Storage that has both lets the driver stream its own snapshots to disk and
   * read one back only to send it to a follower, never holding it whole in memory (at a
   * million keys that is 270 MB beside the state it encodes).
   */
  loadSnapshot?(meta: SnapshotMeta): Promise<Snapshot | null>;
  /** Drop entries up to and including `index`; a snapshot covering them is already saved. */
  compact(index: number): Promise<void>;
}

export interface Transport {
  /** Queue messages for delivery; delivery is best-effort (Raft retries what matters). */
  send(messages: readonly Message[]): void;
}

/**
 * The replicated application. `apply` must be deterministic: no clock, no randomness, no I/O
 * (DESIGN.md, "State machines"), because every node applies the same entries independently.
 */
export interface StateMachine<Result = unknown> {
  apply(entry: Entry): Result;
  snapshot(): Uint8Array;
  /**
   * Optional: the bytes snapshot() would return now, in chunks. The state is captured during
   * the call; the chunks are encoded as they are asked for, over later turns of the event loop,
   * while apply goes on. The driver uses it for its periodic snapshots, which for a large
   * state would otherwise stall the node for seconds.
   */
  snapshotInBackground?(): AsyncIterable<Uint8Array>;
  restore(data: Uint8Array): void;
}
