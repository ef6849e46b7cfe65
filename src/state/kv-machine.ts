/**
 * The KV as a replicated state machine: the node driver hands it committed log entries, it
 * decodes each command and applies it to a KvStore. Reads (range, eventsSince, watch, lease
 * queries) are called directly on the machine by the API layer, which first makes them
 * linearizable with ReadIndex; they never go through the log.
 */
import type { Entry } from '../raft/index.js';
import type { StateMachine } from '../node/index.js';
import { isQuorateError } from '../util/errors.js';
import { msgpackKvCodec, type KvCommandCodec } from './command-codec.js';
import { KvStore } from './kv-store.js';
import { decodeKvSnapshot, encodeKvSnapshot, encodeKvSnapshotChunks } from './snapshot-codec.js';
import {
  commandBytesMax,
  kvFailure,
  type Disposable,
  type EventsResult,
  type KvApplyResult,
  type CompactedListener,
  type KvEventsListener,
  type KvFailure,
  type LeaseInfo,
  type RangeOptions,
  type RangeResponse,
} from './types.js';

export class KvStateMachine implements StateMachine<KvApplyResult> {
  private readonly store = new KvStore();

  constructor(private readonly codec: KvCommandCodec = msgpackKvCodec) {}

  /** The last committed revision (1 for an empty store). */
  get revision(): number {
    return this.store.revision;
  }

  get compactRevision(): number {
    return this.store.compactRevision;
  }

  apply(entry: Entry): KvApplyResult {
    // A leader's empty no-op and membership changes do not touch the KV.
    if (entry.type !== 'normal' || entry.data.byteLength === 0) return this.noop();
    return this.applyCommand(entry.data);
  }

  /** The result of an entry that does not touch the KV. */
  noop(): KvApplyResult {
    return { ok: true, kind: 'noop', revision: this.store.revision };
  }

  /** Decode and apply one encoded command (the payload of a log entry). */
  applyCommand(data: Uint8Array): KvApplyResult {
    if (data.byteLength > commandBytesMax) return kvFailure('bad_command', `commands are limited to ${commandBytesMax} bytes (commandBytesMax)`);
    let command;
    try {
      command = this.codec.decode(data);
    } catch (error) {
      if (isQuorateError(error, 'bad_command')) return kvFailure('bad_command', error.message);
      throw error;
    }
    return this.store.execute(command);
  }

  range(key: Uint8Array, rangeEnd?: Uint8Array, options: RangeOptions = {}): RangeResponse | KvFailure {
    return this.store.range(key, rangeEnd, options);
  }

  eventsSince(from: number, key: Uint8Array, rangeEnd?: Uint8Array): EventsResult {
    return this.store.eventsSince(from, key, rangeEnd);
  }

  onEvents(listener: KvEventsListener): Disposable {
    return this.store.onEvents(listener);
  }

  watch(from: number, key: Uint8Array, rangeEnd: Uint8Array | undefined, listener: KvEventsListener, compacted: CompactedListener): Disposable | KvFailure {
    return this.store.watch(from, key, rangeEnd, listener, compacted);
  }

  lease(id: number): LeaseInfo | null {
    return this.store.lease(id);
  }

  /** Every lease with its granted TTL and keys; the leader adds the remaining time it tracks. */
  leases(): LeaseInfo[] {
    return this.store.leases();
  }

  /** Lease id -> granted TTL in seconds, for the leader's countdown (no keys, no sorting). */
  leaseTtls(): ReadonlyMap<number, number> {
    return this.store.leaseTtls();
  }

  /** `prefix`: bytes to put in front, in the same buffer (saves copying a large snapshot to prepend them). */
  snapshot(prefix?: Uint8Array): Uint8Array {
    return encodeKvSnapshot(this.store.exportState(), prefix);
  }

  /** The state now, encoded in chunks over later turns of the event loop (StateMachine.snapshotInBackground). */
  snapshotInBackground(prefix?: Uint8Array): AsyncIterable<Uint8Array> {
    // exportState runs now, at the call; the generator's body only when iterated.
    return encodeKvSnapshotChunks(this.store.exportState(), prefix);
  }

  restore(data: Uint8Array): void {
    this.store.importState(decodeKvSnapshot(data));
  }
}
