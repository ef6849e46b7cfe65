/**
 * How long the storage's durable writes take, reported as they finish. Storage only measures;
 * whoever passes an observer (the server's metrics) decides how to keep the numbers, so this
 * folder depends on no metrics library.
 */
export interface StorageObserver {
  /** One group-committed WAL append: its records written, and fdatasynced when it had to be durable. */
  walAppended(durationMs: number, bytes: number): void;
  /** One fdatasync of a WAL segment (an acknowledged write waits for it). */
  walSynced(durationMs: number): void;
  /** A snapshot file written atomically (write, fsync, rename, fsync of the directory). */
  snapshotSaved(durationMs: number, bytes: number): void;
}

/** Milliseconds since `startedMs` on the monotonic clock. */
export function elapsedMs(startedMs: number): number {
  return performance.now() - startedMs;
}
