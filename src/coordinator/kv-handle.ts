/**
 * The library's typed KV handle: etcd v3 operations on the replicated state, with keys and
 * values as strings or bytes. Failures of the request (compare failed is not one: it is a
 * `false`) throw a QuorateError with the state machine's or the service's code.
 */
import { prefixEnd, type Disposable, type KeyValue, type KvEvent, type KvFailure, type TxnRequest, type TxnResponse } from '../state/index.js';
import type { Consistency, KvService, LeaseStatus } from '../server/index.js';
import { QuorateError } from '../util/errors.js';

export type Bytes = string | Uint8Array;

const encoder = new TextEncoder();

export function toBytes(value: Bytes): Uint8Array {
  return typeof value === 'string' ? encoder.encode(value) : value;
}

function unwrap<T>(result: T | KvFailure): Exclude<T, KvFailure> {
  const failure = result as { ok?: unknown; code?: unknown; message?: unknown };
  if (failure.ok === false) throw new QuorateError(String(failure.code), String(failure.message));
  return result as Exclude<T, KvFailure>;
}

export interface WatchOptions {
  /** Watch every key with this prefix instead of the one key. */
  readonly prefix?: boolean;
  /** Deliver events from this revision on (0: only new ones). */
  readonly fromRevision?: number;
  /**
   * Called when the watch ends because this node caught up from a leader's snapshot and the
   * events in between were compacted; watch again from a current revision. Without it the
   * watch just ends.
   */
  readonly onCompacted?: (compactRevision: number) => void;
}

export class KvHandle {
  constructor(private readonly service: () => KvService) {}

  async put(key: Bytes, value: Bytes, options: { lease?: number } = {}): Promise<{ revision: number }> {
    const result = unwrap(await this.service().write({ op: 'put', key: toBytes(key), value: toBytes(value), lease: options.lease }));
    return { revision: result.revision };
  }

  async get(key: Bytes, options: { consistency?: Consistency } = {}): Promise<KeyValue | null> {
    const result = unwrap(await this.service().range({ op: 'range', key: toBytes(key) }, options.consistency ?? 'linearizable'));
    return result.kvs[0] ?? null;
  }

  async list(prefix: Bytes, options: { consistency?: Consistency; limit?: number } = {}): Promise<readonly KeyValue[]> {
    const key = toBytes(prefix);
    const result = unwrap(await this.service().range({ op: 'range', key, rangeEnd: prefixEnd(key), limit: options.limit }, options.consistency ?? 'linearizable'));
    return result.kvs;
  }

  /** Resolves with the number of keys deleted. */
  async delete(key: Bytes, options: { prefix?: boolean } = {}): Promise<number> {
    const bytes = toBytes(key);
    const result = unwrap(await this.service().write({ op: 'deleteRange', key: bytes, rangeEnd: options.prefix === true ? prefixEnd(bytes) : undefined }));
    return result.kind === 'deleteRange' ? result.deleted : 0;
  }

  /** Put only if the key's mod revision is `expectedModRevision` (0: the key must not exist). */
  async compareAndSwap(key: Bytes, expectedModRevision: number, value: Bytes): Promise<boolean> {
    const bytes = toBytes(key);
    const result = await this.txn({
      op: 'txn',
      compares: [{ target: 'modRevision', key: bytes, result: 'equal', value: expectedModRevision }],
      success: [{ op: 'put', key: bytes, value: toBytes(value) }],
      failure: [],
    });
    return result.succeeded;
  }

  async txn(request: TxnRequest): Promise<TxnResponse> {
    const result = unwrap(await this.service().write(request));
    if (result.kind !== 'txn') throw new QuorateError('bad_response', `a txn applied as ${result.kind}`);
    return result;
  }

  watch(key: Bytes, options: WatchOptions, listener: (events: readonly KvEvent[]) => void): Disposable {
    const bytes = toBytes(key);
    const compacted = options.onCompacted ?? ((): void => undefined);
    return unwrap(this.service().watch(options.fromRevision ?? 0, bytes, options.prefix === true ? prefixEnd(bytes) : undefined, listener, compacted));
  }

  async leaseGrant(ttlSeconds: number): Promise<number> {
    return unwrap(await this.service().leaseGrant(ttlSeconds)).id;
  }

  async leaseRevoke(id: number): Promise<void> {
    unwrap(await this.service().leaseRevoke(id));
  }

  async leaseKeepAlive(id: number): Promise<LeaseStatus> {
    return unwrap(await this.service().leaseKeepAlive(id));
  }
}
