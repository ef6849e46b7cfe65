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
  /** Resolves once the update is durable (when `sync`), or at least written (when not). */
  save(update: LogUpdate): Promise<void>;
  /**
   * Durably record a snapshot this node took of its own state machine. May run while save()
   * calls proceed (the driver does not wait for it before appending more).
   */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /**
   * Optional: read back a snapshot saved with saveSnapshot, or null if it is no longer kept.
   * Storage that has it lets the driver drop the bytes of its own snapshots from memory once
   * they are durable, and read them only to send one to a follower.
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
   * Optional: the same bytes snapshot() would return now, with the state captured during the
   * call but encoded over later turns of the event loop, while apply goes on. The driver uses
   * it for the periodic snapshots of a large state, which would otherwise stall the node.
   */
  snapshotInBackground?(): Promise<Uint8Array>;
  restore(data: Uint8Array): void;
}
