/**
 * The KV routes: /v1/kv/{key} (GET, PUT, DELETE), /v1/kv?prefix= (GET) and /v1/txn (POST).
 * Reads default to linearizable; `consistency=serializable` reads this node's state as is.
 */
import type { Consistency } from '../server/index.js';
import { prefixEnd, txnKeyRanges, valueBytesMax, type KvApplyResult, type KvFailure, type RangeResponse, type TxnResponse } from '../state/index.js';
import { assert } from '../util/assert.js';
import { ApiError, badRequest, unwrap } from './errors.js';
import { ok, type Reply, type RequestContext } from './handler.js';
import { describeBytes } from './json-bytes.js';
import { keyValueJson, listJson, txnJson } from './kv-json.js';
import { allowKeys } from './key-access.js';
import { parseJson, percentDecode, prefixRange, readBody, type Query } from './request.js';
import { jsonBodyBytesMax, parseTxnRequest } from './txn-body.js';

const consistencies: readonly Consistency[] = ['linearizable', 'serializable'];

function pathKey(context: RequestContext): Uint8Array {
  const key = percentDecode(context.captures[0] ?? '');
  if (key === null) throw badRequest('the key in the path is not valid percent-encoding');
  return key;
}

function consistency(query: Query): Consistency {
  return query.choice('consistency', consistencies) ?? 'linearizable';
}

/** A write's applied result, narrowed to the kind the command must produce. */
type Applied = Exclude<KvApplyResult, KvFailure>;

function applied<K extends Applied['kind']>(result: KvApplyResult, kind: K): Extract<Applied, { kind: K }> {
  const success = unwrap<Applied>(result);
  assert(success.kind === kind, () => `expected a ${kind} result, got ${success.kind}`);
  return success as Extract<Applied, { kind: K }>;
}

export async function getKey(context: RequestContext): Promise<Reply> {
  const { query, service } = context;
  query.allowOnly(['consistency', 'revision']);
  const key = pathKey(context);
  allowKeys(context.principal, key);
  const response = unwrap<RangeResponse>(await service.range({ op: 'range', key, revision: query.count('revision') }, consistency(query)));
  const kv = response.kvs[0];
  if (kv === undefined) throw new ApiError('key_not_found', `key ${describeBytes(key)} not found`);
  return ok({ ...keyValueJson(kv), revision: response.revision });
}

/** An absent or empty prefix lists every key. */
export async function listKeys(context: RequestContext): Promise<Reply> {
  const { query, service } = context;
  query.allowOnly(['prefix', 'limit', 'keysOnly', 'revision', 'consistency']);
  const { key, rangeEnd } = prefixRange(query.bytes('prefix') ?? new Uint8Array(0));
  allowKeys(context.principal, key, rangeEnd);
  const request = { op: 'range', key, rangeEnd, limit: query.count('limit'), keysOnly: query.flag('keysOnly'), revision: query.count('revision') } as const;
  return ok(listJson(unwrap<RangeResponse>(await service.range(request, consistency(query)))));
}

export async function putKey(context: RequestContext): Promise<Reply> {
  const { query, service } = context;
  query.allowOnly(['lease', 'prevModRevision']);
  const key = pathKey(context);
  allowKeys(context.principal, key);
  const lease = query.count('lease');
  const prevModRevision = query.count('prevModRevision');
  const tooLarge = (): ApiError => new ApiError('value_too_large', `values are limited to ${valueBytesMax} bytes (valueBytesMax)`);
  const value = await readBody(context.request, valueBytesMax, tooLarge);
  if (prevModRevision === undefined) {
    return ok({ revision: applied(await service.write({ op: 'put', key, value, lease }), 'put').revision });
  }
  // Compare-and-swap as a transaction; the failure branch reads the key to explain the refusal.
  const txn = applied(
    await service.write({
      op: 'txn',
      compares: [{ target: 'modRevision', key, result: 'equal', value: prevModRevision }],
      success: [{ op: 'put', key, value, lease }],
      failure: [{ op: 'range', key }],
    }),
    'txn',
  );
  if (!txn.succeeded) throw compareFailed(key, prevModRevision, txn);
  return ok({ revision: txn.revision });
}

function compareFailed(key: Uint8Array, expected: number, txn: TxnResponse): ApiError {
  const read = txn.responses[0];
  const current = read?.kind === 'range' ? read.kvs[0] : undefined;
  const actual = current === undefined ? 'the key does not exist' : `its modRevision is ${current.modRevision}`;
  const wanted = expected === 0 ? 'expected it not to exist' : `expected modRevision ${expected}`;
  return new ApiError('compare_failed', `compare failed for key ${describeBytes(key)}: ${wanted}, but ${actual}`, { revision: txn.revision });
}

export async function deleteKey(context: RequestContext): Promise<Reply> {
  const { query, service } = context;
  query.allowOnly(['prefix']);
  const key = pathKey(context);
  const rangeEnd = query.flag('prefix') ? prefixEnd(key) : undefined;
  allowKeys(context.principal, key, rangeEnd);
  const response = applied(await service.write({ op: 'deleteRange', key, rangeEnd }), 'deleteRange');
  return ok({ deleted: response.deleted, revision: response.revision });
}

export async function txn(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const tooLarge = (): ApiError => new ApiError('body_too_large', `a txn body is limited to ${jsonBodyBytesMax} bytes`);
  const request = parseTxnRequest(parseJson(await readBody(context.request, jsonBodyBytesMax, tooLarge)));
  for (const { key, rangeEnd } of txnKeyRanges(request)) allowKeys(context.principal, key, rangeEnd);
  return ok(txnJson(applied(await context.service.write(request), 'txn')));
}
