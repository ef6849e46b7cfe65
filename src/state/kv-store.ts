/**
 * etcd v3's key-value operations over the multi-version store: put, range, deleteRange, txn,
 * leases and compaction, plus the watch hooks. Every method is deterministic and synchronous;
 * expected failures come back as KvFailure values so that apply never throws on user input.
 * KvStateMachine (kv-machine.ts) feeds it the commands of committed log entries.
 */
import { assert } from '../util/assert.js';
import { bytesToBinary, inRange, toBinaryRange } from './keys.js';
import { LeaseTable } from './leases.js';
import { MvccStore, toKeyValue, type FrozenMvcc, type KeyRevision, type StoredKv } from './mvcc-store.js';
import {
  kvFailure,
  leasesMax,
  leaseTtlSecondsMax,
  rangeResultsMax,
  type Compare,
  type CompactRequest,
  type CompactResponse,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type Disposable,
  type EventsResult,
  type KeyValue,
  type KvApplyResult,
  type KvCommand,
  type KvEvent,
  type CompactedListener,
  type KvEventsListener,
  type KvFailure,
  type LeaseGrantRequest,
  type LeaseGrantResponse,
  type LeaseInfo,
  type LeaseRevokeRequest,
  type LeaseRevokeResponse,
  type PutRequest,
  type PutResponse,
  type RangeOptions,
  type RangeRequest,
  type RangeResponse,
  type TxnOp,
  type TxnOpResponse,
  type TxnRequest,
  type TxnResponse,
} from './types.js';
import { checkDeleteShape, checkPutShape, checkRangeShape, checkTxnShape } from './validate.js';

/** Everything a snapshot holds; lease-to-key links are derived from the keys' lease field. */
export interface SnapshotState {
  readonly revision: number;
  readonly compactRevision: number;
  /** How many entries `histories` yields. */
  readonly keyCount: number;
  readonly histories: Iterable<readonly [string, readonly KeyRevision[]]>;
  readonly leases: readonly { readonly id: number; readonly ttlSeconds: number }[];
}

/** A decoded snapshot: the store takes its history arrays over. */
export interface KvState extends SnapshotState {
  readonly histories: Iterable<readonly [string, KeyRevision[]]>;
}

type WithoutRevision<T> = T extends unknown ? Omit<T, 'revision'> : never;

/** A transaction whose compares are evaluated: the branch that runs, with nested txns planned too. */
interface TxnPlan {
  readonly succeeded: boolean;
  readonly ops: readonly PlannedOp[];
}

type PlannedOp = Exclude<TxnOp, TxnRequest> | { readonly op: 'txn'; readonly plan: TxnPlan };

/** The leaf operations a plan runs, nested ones included, in order. */
function plannedLeaves(plan: TxnPlan): Exclude<TxnOp, TxnRequest>[] {
  return plan.ops.flatMap((op) => (op.op === 'txn' ? plannedLeaves(op.plan) : [op]));
}

/** A transaction's response before its write is done and its revision known. */
interface UnstampedTxn {
  readonly ok: true;
  readonly kind: 'txn';
  readonly succeeded: boolean;
  readonly responses: readonly Unstamped[];
}

type Unstamped = WithoutRevision<Exclude<TxnOpResponse, TxnResponse>> | UnstampedTxn;

/** Every response of a transaction, nested ones included, carries the transaction's revision (as in etcd). */
function stamped(response: Unstamped, revision: number): TxnOpResponse {
  if (response.kind !== 'txn') return { ...response, revision };
  return { ...response, revision, responses: response.responses.map((inner) => stamped(inner, revision)) };
}

function compareKv(compare: Compare, kv: StoredKv | null): boolean {
  let order: number;
  if (compare.target === 'value') {
    assert(kv !== null, 'value compare on a missing key');
    const wanted = bytesToBinary(compare.value);
    // Binary strings compare code unit by code unit, which is bytewise order (keys.ts).
    order = kv.value < wanted ? -1 : kv.value > wanted ? 1 : 0;
  } else {
    const field = compare.target === 'lease' ? 'lease' : compare.target;
    order = Math.sign((kv?.[field] ?? 0) - compare.value);
  }
  switch (compare.result) {
    case 'equal':
      return order === 0;
    case 'notEqual':
      return order !== 0;
    case 'less':
      return order < 0;
    case 'greater':
      return order > 0;
  }
}

export class KvStore {
  private readonly mvcc = new MvccStore();
  private readonly leaseTable = new LeaseTable();
  /** `start`: the first revision a watch wants (raw onEvents listeners want everything after now). */
  private readonly listeners = new Set<{ readonly listener: KvEventsListener; readonly compacted?: CompactedListener; readonly start?: number }>();

  get revision(): number {
    return this.mvcc.currentRevision;
  }

  get compactRevision(): number {
    return this.mvcc.compactRevision;
  }

  /** Apply one logged command. */
  execute(command: KvCommand): KvApplyResult {
    switch (command.op) {
      case 'put':
        return this.put(command);
      case 'deleteRange':
        return this.deleteRange(command);
      case 'txn':
        return this.txn(command);
      case 'leaseGrant':
        return this.leaseGrant(command);
      case 'leaseRevoke':
        return this.leaseRevoke(command);
      case 'compact':
        return this.compact(command);
    }
  }

  /** A read: the keys of [key, rangeEnd) (etcd's rangeEnd convention) at a revision. */
  range(key: Uint8Array, rangeEnd?: Uint8Array, options: RangeOptions = {}): RangeResponse | KvFailure {
    const request: RangeRequest = { op: 'range', key, rangeEnd, ...options };
    const failure = checkRangeShape(request) ?? this.checkRangeState(request, 0);
    if (failure !== null) return failure;
    return { ...this.execRange(request), revision: this.revision };
  }

  put(request: PutRequest): PutResponse | KvFailure {
    const failure = checkPutShape(request) ?? this.checkPutState(request);
    if (failure !== null) return failure;
    return this.write(() => this.execPut(request));
  }

  deleteRange(request: DeleteRangeRequest): DeleteRangeResponse | KvFailure {
    const failure = checkDeleteShape(request);
    if (failure !== null) return failure;
    return this.write(() => this.execDelete(request));
  }

  /**
   * Compares, then one branch, atomically: one revision if the branch writes, none otherwise.
   * Nested transactions' compares are evaluated up front too, against the state before any op
   * runs, as etcd does, so the whole path is known (and checked) before anything changes.
   */
  txn(request: TxnRequest): TxnResponse | KvFailure {
    const shapeFailure = checkTxnShape(request);
    if (shapeFailure !== null) return shapeFailure;
    const plan = this.plan(request);
    const leaves = plannedLeaves(plan);
    const puts = leaves.filter((op) => op.op === 'put').length;
    for (const op of leaves) {
      const failure = op.op === 'put' ? this.checkPutState(op) : op.op === 'range' ? this.checkRangeState(op, puts) : null;
      if (failure !== null) return failure;
    }
    const result = this.write(() => this.execPlan(plan));
    return { ...(stamped(result, result.revision) as TxnResponse), ok: true };
  }

  leaseGrant(request: LeaseGrantRequest): LeaseGrantResponse | KvFailure {
    const { id, ttlSeconds } = request;
    if (!Number.isSafeInteger(id) || id <= 0) return kvFailure('invalid_lease_id', 'lease id must be a positive integer');
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > leaseTtlSecondsMax) {
      return kvFailure('invalid_ttl', `ttlSeconds must be an integer from 1 to ${leaseTtlSecondsMax} (leaseTtlSecondsMax)`);
    }
    if (this.leaseTable.has(id)) return kvFailure('lease_exists', `lease ${id} already exists`);
    if (this.leaseTable.size >= leasesMax) return kvFailure('too_many_leases', `at most ${leasesMax} leases (leasesMax)`);
    this.leaseTable.grant(id, ttlSeconds);
    return { ok: true, kind: 'leaseGrant', revision: this.revision, id, ttlSeconds };
  }

  /** Delete the lease and, in one revision, every key attached to it. */
  leaseRevoke(request: LeaseRevokeRequest): LeaseRevokeResponse | KvFailure {
    if (!this.leaseTable.has(request.id)) return kvFailure('lease_not_found', `lease ${request.id} not found`);
    return this.write(() => {
      const keys = this.leaseTable.revoke(request.id);
      // An attached key is live: a delete or a put with another lease detaches it.
      for (const key of keys) this.mvcc.delete(key);
      return { kind: 'leaseRevoke' as const, deleted: keys.length };
    });
  }

  /** Drop history at or below `revision`; does not create a revision (as in etcd). */
  compact(request: CompactRequest): CompactResponse | KvFailure {
    const { revision } = request;
    if (!Number.isSafeInteger(revision)) return kvFailure('invalid_argument', 'revision must be an integer');
    if (revision <= this.compactRevision) return kvFailure('compacted', `revision ${revision} is already compacted`);
    if (revision > this.revision) return kvFailure('future_revision', `revision ${revision} is after the current ${this.revision}`);
    this.mvcc.compact(revision);
    return { ok: true, kind: 'compact', revision: this.revision };
  }

  lease(id: number): LeaseInfo | null {
    return this.leaseTable.get(id);
  }

  leases(): LeaseInfo[] {
    return this.leaseTable.list();
  }

  leaseTtls(): Map<number, number> {
    return this.leaseTable.ttls();
  }

  /**
   * Changes with revision >= from in [key, rangeEnd), in revision order. `from` must be after
   * the compaction revision: the events at it were dropped with the rest of its history.
   */
  eventsSince(from: number, key: Uint8Array, rangeEnd?: Uint8Array): EventsResult {
    const failure = checkWatchArgs(key, rangeEnd, from);
    if (failure !== null) return failure;
    if (from <= this.compactRevision) return kvFailure('compacted', `events at or below revision ${this.compactRevision} are compacted`);
    return { ok: true, events: this.mvcc.eventsSince(from, toBinaryRange(key, rangeEnd)) };
  }

  /**
   * Call `listener` synchronously with the events of every write, after it is committed.
   * Because apply is synchronous, reading eventsSince and then subscribing in the same turn
   * misses and repeats nothing; `watch` does exactly that.
   */
  onEvents(listener: KvEventsListener, compacted?: CompactedListener, start?: number): Disposable {
    const entry = { listener, ...(compacted === undefined ? {} : { compacted }), ...(start === undefined ? {} : { start }) };
    this.listeners.add(entry);
    return { dispose: () => this.listeners.delete(entry) };
  }

  /**
   * History from `from` (0 = from the next revision), then live events, filtered by range.
   * `compacted` is called (and the watch ends) if a restore skips events that are compacted.
   */
  watch(from: number, key: Uint8Array, rangeEnd: Uint8Array | undefined, listener: KvEventsListener, compacted: CompactedListener): Disposable | KvFailure {
    const start = from === 0 ? this.revision + 1 : from;
    const history = this.eventsSince(start, key, rangeEnd);
    if (!history.ok) return history;
    if (history.events.length > 0) listener(history.events);
    const range = toBinaryRange(key, rangeEnd);
    // On a node that is behind `from`, the writes it applies next are older than the watch.
    return this.onEvents((events) => {
      const matching = events.filter((event) => event.kv.modRevision >= start && inRange(range, bytesToBinary(event.kv.key)));
      if (matching.length > 0) listener(matching);
    }, compacted, start);
  }

  /**
   * The state now, frozen (MvccStore.freeze): writes applied afterwards do not change what its
   * histories yield, so a snapshot can be encoded from it over several turns of the event loop.
   */
  exportState(): SnapshotState {
    const leases = this.leaseTable.list().map(({ id, ttlSeconds }) => ({ id, ttlSeconds }));
    const frozen: FrozenMvcc = this.mvcc.freeze();
    return { revision: frozen.revision, compactRevision: frozen.compactRevision, keyCount: frozen.keyCount, histories: frozen.histories(), leases };
  }

  /**
   * Replace the state (a snapshot from the leader, or at startup). Listeners stay subscribed,
   * and since a snapshot that moves the revision forward stands for the writes in between,
   * they get those writes' events from the restored history (as etcd's unsynced watchers are
   * caught up after a restore); where that history is compacted they are told so and dropped.
   */
  importState(state: KvState): void {
    const before = this.revision;
    this.mvcc.load(state.revision, state.compactRevision, state.histories);
    this.leaseTable.clear();
    for (const { id, ttlSeconds } of state.leases) this.leaseTable.grant(id, ttlSeconds);
    this.mvcc.scan({ start: '', end: null }, null, (key, kv) => {
      assert(kv.lease === 0 || this.leaseTable.has(kv.lease), `key attached to missing lease ${kv.lease}`);
      if (kv.lease !== 0) this.leaseTable.attach(kv.lease, key);
      return true;
    });
    if (this.revision > before) this.catchUpListeners(before + 1);
  }

  /** Each listener needs the events from `from` or from its own start, whichever is later. */
  private catchUpListeners(from: number): void {
    const served = [...this.listeners].filter((entry) => {
      if (Math.max(from, entry.start ?? 0) > this.compactRevision) return true;
      this.listeners.delete(entry);
      entry.compacted?.(this.compactRevision);
      return false;
    });
    const events = served.length === 0 ? [] : this.mvcc.eventsSince(Math.max(from, this.compactRevision + 1), { start: '', end: null });
    if (events.length > 0) for (const { listener } of served) listener(events);
  }

  /** Run `body` as one write transaction and stamp its result with the resulting revision. */
  private write<T extends object>(body: () => T): T & { readonly ok: true; readonly revision: number } {
    this.mvcc.beginWrite();
    let events: readonly KvEvent[];
    let result: T;
    try {
      result = body();
    } finally {
      events = this.mvcc.endWrite();
    }
    if (events.length > 0) for (const { listener } of [...this.listeners]) listener(events);
    return { ...result, ok: true, revision: this.revision };
  }

  private checkPutState(request: PutRequest): KvFailure | null {
    const lease = request.lease ?? 0;
    if (lease !== 0 && !this.leaseTable.has(lease)) return kvFailure('lease_not_found', `lease ${lease} not found`);
    if ((request.ignoreValue === true || request.ignoreLease === true) && this.mvcc.latest(bytesToBinary(request.key)) === null) {
      return kvFailure('key_not_found', 'ignoreValue and ignoreLease need an existing key');
    }
    return null;
  }

  /**
   * Revision bounds, and the result-size limit checked before a transaction writes anything:
   * `extraKeys` puts in the same transaction may add keys to the range.
   */
  private checkRangeState(request: RangeRequest, extraKeys: number): KvFailure | null {
    const revision = request.revision ?? 0;
    if (revision !== 0 && revision < this.compactRevision) return kvFailure('compacted', `revision ${revision} is compacted (compaction at ${this.compactRevision})`);
    if (revision > this.revision) return kvFailure('future_revision', `revision ${revision} is after the current ${this.revision}`);
    if (request.countOnly === true) return null;
    const limit = request.limit === undefined || request.limit === 0 ? Infinity : request.limit;
    let count = extraKeys;
    this.mvcc.scan(toBinaryRange(request.key, request.rangeEnd), revision === 0 ? null : revision, () => ++count <= rangeResultsMax);
    return Math.min(count, limit) > rangeResultsMax
      ? kvFailure('too_many_results', `a range returns at most ${rangeResultsMax} keys (rangeResultsMax); page with limit`)
      : null;
  }

  private evaluate(compare: Compare): boolean {
    let seen = 0;
    let holds = true;
    this.mvcc.scan(toBinaryRange(compare.key, compare.rangeEnd), null, (_key, kv) => {
      seen++;
      holds = compareKv(compare, kv);
      return holds;
    });
    // etcd: a missing key fails a value compare and has version and revisions 0.
    if (seen === 0) return compare.target !== 'value' && compareKv(compare, null);
    return holds;
  }

  private plan(request: TxnRequest): TxnPlan {
    const succeeded = request.compares.every((compare) => this.evaluate(compare));
    const ops = (succeeded ? request.success : request.failure).map((op): PlannedOp => (op.op === 'txn' ? { op: 'txn', plan: this.plan(op) } : op));
    return { succeeded, ops };
  }

  private execPlan(plan: TxnPlan): UnstampedTxn {
    return { ok: true, kind: 'txn', succeeded: plan.succeeded, responses: plan.ops.map((op) => this.execOp(op)) };
  }

  private execOp(op: PlannedOp): Unstamped {
    switch (op.op) {
      case 'put':
        return { ok: true, ...this.execPut(op) };
      case 'deleteRange':
        return { ok: true, ...this.execDelete(op) };
      case 'range':
        return this.execRange(op);
      case 'txn':
        return this.execPlan(op.plan);
    }
  }

  private execPut(request: PutRequest): { readonly kind: 'put'; readonly prevKv?: KeyValue } {
    const key = bytesToBinary(request.key);
    const current = this.mvcc.latest(key);
    // A string is a copy, so a caller reusing its buffers cannot change stored history.
    const value = request.ignoreValue === true && current !== null ? current.value : bytesToBinary(request.value);
    const lease = request.ignoreLease === true && current !== null ? current.lease : (request.lease ?? 0);
    const { prev } = this.mvcc.put(key, value, lease);
    if (prev !== null && prev.lease !== 0 && prev.lease !== lease) this.leaseTable.detach(prev.lease, key);
    if (lease !== 0) this.leaseTable.attach(lease, key);
    return request.prevKv === true && prev !== null ? { kind: 'put', prevKv: toKeyValue(key, prev) } : { kind: 'put' };
  }

  private execDelete(request: DeleteRangeRequest): { readonly kind: 'deleteRange'; readonly deleted: number; readonly prevKvs?: KeyValue[] } {
    const doomed: [string, StoredKv][] = [];
    this.mvcc.scan(toBinaryRange(request.key, request.rangeEnd), null, (key, kv) => doomed.push([key, kv]) > 0);
    for (const [key, kv] of doomed) {
      this.mvcc.delete(key);
      if (kv.lease !== 0) this.leaseTable.detach(kv.lease, key);
    }
    if (request.prevKv !== true) return { kind: 'deleteRange', deleted: doomed.length };
    return { kind: 'deleteRange', deleted: doomed.length, prevKvs: doomed.map(([key, kv]) => toKeyValue(key, kv)) };
  }

  /** Assumes checkRangeState passed, so the result fits rangeResultsMax. */
  private execRange(request: RangeRequest): Omit<RangeResponse, 'revision'> {
    const countOnly = request.countOnly === true;
    const keysOnly = request.keysOnly === true;
    const limit = request.limit === undefined || request.limit === 0 ? Infinity : request.limit;
    const kvs: KeyValue[] = [];
    let count = 0;
    const revision = request.revision === undefined || request.revision === 0 ? null : request.revision;
    this.mvcc.scan(toBinaryRange(request.key, request.rangeEnd), revision, (key, kv) => {
      count++;
      if (!countOnly && kvs.length < limit) kvs.push(toKeyValue(key, kv, keysOnly));
      return true;
    });
    return { ok: true, kind: 'range', kvs, count, more: !countOnly && count > kvs.length };
  }
}

function checkWatchArgs(key: Uint8Array, rangeEnd: Uint8Array | undefined, from: number): KvFailure | null {
  if (!Number.isSafeInteger(from) || from < 1) return kvFailure('invalid_argument', 'from must be a positive revision');
  return checkRangeShape({ op: 'range', key, rangeEnd });
}
