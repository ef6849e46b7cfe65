/**
 * etcdserverpb.KV: Range, Put, DeleteRange, Txn and Compact on the node's KvService, which
 * forwards writes (and linearizable reads' read index) to the leader. Roles as on the HTTP API:
 * reads need read, writes write, compaction admin; every key named must lie in the token's
 * prefix. A transaction needs write as soon as either branch writes, whichever branch runs.
 */
import { roleAllows } from '../cluster/acl-token.js';
import { txnKeyRanges, type KvApplyResult, type KvFailure, type TxnOp } from '../state/index.js';
import { assert } from '../util/assert.js';
import type { ServiceRegistrar } from './context.js';
import { etcdErrors, unwrap } from './errors.js';
import { int64 } from './int64.js';
import { deleteRangeResponse, putResponse, toDeleteRange, toPut, toRange, toTxn } from './kv-convert.js';
import type {
  CompactionRequestMessage,
  DeleteRangeRequestMessage,
  PutRequestMessage,
  RangeRequestMessage,
  RangeResponseMessage,
  ResponseHeader,
  TxnRequestMessage,
  TxnResponseMessage,
} from './messages.js';
import { etcdServices } from './protocol.js';

type Applied = Exclude<KvApplyResult, KvFailure>;

function applied<K extends Applied['kind']>(result: KvApplyResult, kind: K): Extract<Applied, { kind: K }> {
  const response: Applied = unwrap(result);
  assert(response.kind === kind, () => `a ${kind} was answered with ${response.kind}`);
  return response as Extract<Applied, { kind: K }>;
}

function writes(op: TxnOp): boolean {
  return op.op === 'txn' ? [...op.success, ...op.failure].some(writes) : op.op !== 'range';
}

export const registerKvService: ServiceRegistrar = (server, context) => {
  const { auth } = context;
  server.addService(etcdServices.kv, {
    Range: context.unary<RangeRequestMessage, RangeResponseMessage>('read', async (message, principal) => {
      const { request, shape } = toRange(message);
      auth.allowKeys(principal, request.key, request.rangeEnd);
      const response = unwrap(await context.service().range(request, message.serializable ? 'serializable' : 'linearizable'));
      return shape.answer(response, context.header(response.revision));
    }),
    Put: context.unary<PutRequestMessage, object>('write', async (message, principal) => {
      const request = toPut(message);
      auth.allowKeys(principal, request.key);
      const response = applied(await context.service().write(request), 'put');
      return putResponse(response, context.header(response.revision));
    }),
    DeleteRange: context.unary<DeleteRangeRequestMessage, object>('write', async (message, principal) => {
      const request = toDeleteRange(message);
      auth.allowKeys(principal, request.key, request.rangeEnd);
      const response = applied(await context.service().write(request), 'deleteRange');
      return deleteRangeResponse(response, context.header(response.revision));
    }),
    Txn: context.unary<TxnRequestMessage, TxnResponseMessage>('read', async (message, principal) => {
      const { request, respond } = toTxn(message);
      if (writes(request) && !roleAllows(principal.role, 'write')) throw etcdErrors.permissionDenied();
      for (const { key, rangeEnd } of txnKeyRanges(request)) auth.allowKeys(principal, key, rangeEnd);
      const response = applied(await context.service().write(request), 'txn');
      return respond(response, context.header(response.revision));
    }),
    Compact: context.unary<CompactionRequestMessage, { header: ResponseHeader }>('admin', async (message) => {
      // `physical` needs no wait: a compaction is complete in memory once it is applied.
      const response = applied(await context.service().write({ op: 'compact', revision: int64(message.revision, 'revision') }), 'compact');
      return { header: context.header(response.revision) };
    }),
  });
};
