/**
 * What RangeRequest asks beyond the state machine's range: sorting by any field in either
 * order, and min/max filters on mod and create revisions. As etcd does, such a range reads
 * every key of the range, filters, sorts, and only then applies the limit; `count` stays the
 * number of keys in the range, unaffected by filters, and `more` says whether fewer kvs came
 * back than it counts. A plain range (no sort or key order ascending, no filter) is left to the
 * state machine's limit untouched.
 */
import type { KeyValue, RangeResponse } from '../state/index.js';
import { keyValueMessage } from './key-value.js';
import { int64 } from './int64.js';
import type { RangeRequestMessage, RangeResponseMessage, ResponseHeader, SortTarget } from './messages.js';

export interface RangeShape {
  /** The range must read every key of the range (no limit) before shaping. */
  readonly needsAll: boolean;
  answer(response: RangeResponse, header: ResponseHeader): RangeResponseMessage;
}

const fieldOf: Readonly<Record<Exclude<SortTarget, 'KEY' | 'VALUE'>, 'version' | 'createRevision' | 'modRevision'>> = { VERSION: 'version', CREATE: 'createRevision', MOD: 'modRevision' };

function byTarget(target: SortTarget): (a: KeyValue, b: KeyValue) => number {
  if (target === 'KEY') return (a, b) => Buffer.compare(a.key, b.key);
  if (target === 'VALUE') return (a, b) => Buffer.compare(a.value, b.value);
  const field = fieldOf[target];
  return (a, b) => a[field] - b[field];
}

export function rangeShape(message: RangeRequestMessage): RangeShape {
  // etcd sorts ascending when a target other than the key is named without an order.
  const order = message.sort_order === 'NONE' && message.sort_target !== 'KEY' ? 'ASCEND' : message.sort_order;
  const sorts = order === 'DESCEND' || (order === 'ASCEND' && message.sort_target !== 'KEY');
  const bounds = {
    minMod: int64(message.min_mod_revision, 'min_mod_revision'),
    maxMod: int64(message.max_mod_revision, 'max_mod_revision'),
    minCreate: int64(message.min_create_revision, 'min_create_revision'),
    maxCreate: int64(message.max_create_revision, 'max_create_revision'),
  };
  const filters = Object.values(bounds).some((bound) => bound !== 0);
  const limit = Math.max(0, int64(message.limit, 'limit'));
  const needsAll = !message.count_only && (sorts || filters);
  const keep = (kv: KeyValue): boolean =>
    (bounds.minMod === 0 || kv.modRevision >= bounds.minMod) &&
    (bounds.maxMod === 0 || kv.modRevision <= bounds.maxMod) &&
    (bounds.minCreate === 0 || kv.createRevision >= bounds.minCreate) &&
    (bounds.maxCreate === 0 || kv.createRevision <= bounds.maxCreate);
  const compare = byTarget(message.sort_target);
  return {
    needsAll,
    answer(response, header) {
      if (!needsAll) return { header, kvs: response.kvs.map(keyValueMessage), more: response.more, count: response.count };
      const kept = filters ? response.kvs.filter(keep) : [...response.kvs];
      if (sorts) kept.sort(order === 'DESCEND' ? (a, b) => compare(b, a) : compare);
      const kvs = limit === 0 ? kept : kept.slice(0, limit);
      return { header, kvs: kvs.map(keyValueMessage), more: kvs.length < response.count, count: response.count };
    },
  };
}
