/**
 * etcd's KV messages to the state machine's requests and back. The state machine already
 * speaks etcd's semantics (state/types.ts), so this is mostly renaming; what it adds is the
 * sorting and revision filters of RangeRequest (range-shape.ts) and the walk through nested
 * transactions, whose responses come back in the same tree shape as their requests.
 */
import type { Compare, DeleteRangeRequest, PutRequest, RangeRequest, TxnOp, TxnOpResponse, TxnRequest, TxnResponse } from '../state/index.js';
import { status } from '@grpc/grpc-js';
import { assert } from '../util/assert.js';
import { GrpcError } from './errors.js';
import { int64 } from './int64.js';
import { keyValueMessage } from './key-value.js';
import type {
  CompareMessage,
  DeleteRangeRequestMessage,
  KeyValueMessage,
  PutRequestMessage,
  RangeRequestMessage,
  RequestOpMessage,
  ResponseHeader,
  ResponseOpMessage,
  TxnRequestMessage,
  TxnResponseMessage,
} from './messages.js';
import { rangeShape, type RangeShape } from './range-shape.js';

/** An empty range_end means the single key, as absent does for the state machine. */
function rangeEndOf(bytes: Buffer): Uint8Array | undefined {
  return bytes.byteLength === 0 ? undefined : bytes;
}

/** The state machine's range (with limit lifted when sorting or filtering needs every key) and how to shape its answer. */
export function toRange(message: RangeRequestMessage): { readonly request: RangeRequest; readonly shape: RangeShape } {
  const shape = rangeShape(message);
  const limit = shape.needsAll ? 0 : int64(message.limit, 'limit');
  const request: RangeRequest = {
    op: 'range',
    key: message.key,
    rangeEnd: rangeEndOf(message.range_end),
    limit: Math.max(0, limit),
    revision: Math.max(0, int64(message.revision, 'revision')),
    keysOnly: message.keys_only,
    countOnly: message.count_only,
  };
  return { request, shape };
}

export function toPut(message: PutRequestMessage): PutRequest {
  return {
    op: 'put',
    key: message.key,
    value: message.value,
    lease: int64(message.lease, 'lease'),
    prevKv: message.prev_kv,
    ignoreValue: message.ignore_value,
    ignoreLease: message.ignore_lease,
  };
}

export function toDeleteRange(message: DeleteRangeRequestMessage): DeleteRangeRequest {
  return { op: 'deleteRange', key: message.key, rangeEnd: rangeEndOf(message.range_end), prevKv: message.prev_kv };
}

const compareResults = { EQUAL: 'equal', GREATER: 'greater', LESS: 'less', NOT_EQUAL: 'notEqual' } as const;
const compareTargets = { VERSION: 'version', CREATE: 'createRevision', MOD: 'modRevision', LEASE: 'lease' } as const;
const operandFields = { VERSION: 'version', CREATE: 'create_revision', MOD: 'mod_revision', LEASE: 'lease' } as const;

function toCompare(message: CompareMessage): Compare {
  const base = { key: message.key, rangeEnd: rangeEndOf(message.range_end), result: compareResults[message.result] };
  if (message.target === 'VALUE') return { ...base, target: 'value', value: message.value ?? Buffer.alloc(0) };
  // The operand is the oneof member the target names; an unset oneof compares against 0, as in etcd.
  const field = operandFields[message.target];
  return { ...base, target: compareTargets[message.target], value: int64(message[field] ?? '0', field) };
}

/** A txn op's response in etcd's shape, given the header every response carries. */
type Responder = (response: TxnOpResponse, header: ResponseHeader) => ResponseOpMessage;

interface ConvertedOp {
  readonly op: TxnOp;
  readonly respond: Responder;
}

function expectKind<K extends TxnOpResponse['kind']>(response: TxnOpResponse, kind: K): Extract<TxnOpResponse, { kind: K }> {
  // The state machine answers a branch's ops in order, one response per op.
  assert(response.kind === kind, () => `a txn op of kind ${kind} got a ${response.kind} response`);
  return response as Extract<TxnOpResponse, { kind: K }>;
}

function toOp(message: RequestOpMessage): ConvertedOp {
  switch (message.request) {
    case 'request_range': {
      const { request, shape } = toRange(message.request_range as RangeRequestMessage);
      return { op: request, respond: (response, header) => ({ response_range: shape.answer(expectKind(response, 'range'), header) }) };
    }
    case 'request_put':
      return { op: toPut(message.request_put as PutRequestMessage), respond: (response, header) => ({ response_put: putResponse(expectKind(response, 'put'), header) }) };
    case 'request_delete_range':
      return {
        op: toDeleteRange(message.request_delete_range as DeleteRangeRequestMessage),
        respond: (response, header) => ({ response_delete_range: deleteRangeResponse(expectKind(response, 'deleteRange'), header) }),
      };
    case 'request_txn': {
      const { request, respond } = toTxn(message.request_txn as TxnRequestMessage);
      return { op: request, respond: (response, header) => ({ response_txn: respond(expectKind(response, 'txn'), header) }) };
    }
    default:
      throw new GrpcError(status.INVALID_ARGUMENT, 'etcdserver: a txn operation sets none of request_range, request_put, request_delete_range and request_txn');
  }
}

/** The state machine's txn, and how to turn its response (nested ones too) into etcd's. */
export function toTxn(message: TxnRequestMessage): { readonly request: TxnRequest; readonly respond: (response: TxnResponse, header: ResponseHeader) => TxnResponseMessage } {
  const success = message.success.map(toOp);
  const failure = message.failure.map(toOp);
  const request: TxnRequest = { op: 'txn', compares: message.compare.map(toCompare), success: success.map((op) => op.op), failure: failure.map((op) => op.op) };
  const respond = (response: TxnResponse, header: ResponseHeader): TxnResponseMessage => {
    const branch = response.succeeded ? success : failure;
    return { header, succeeded: response.succeeded, responses: response.responses.map((inner, i) => (branch[i] as ConvertedOp).respond(inner, header)) };
  };
  return { request, respond };
}

export function putResponse(response: Extract<TxnOpResponse, { kind: 'put' }>, header: ResponseHeader): { header: ResponseHeader; prev_kv?: KeyValueMessage } {
  return response.prevKv === undefined ? { header } : { header, prev_kv: keyValueMessage(response.prevKv) };
}

export function deleteRangeResponse(response: Extract<TxnOpResponse, { kind: 'deleteRange' }>, header: ResponseHeader): { header: ResponseHeader; deleted: number; prev_kvs: KeyValueMessage[] } {
  return { header, deleted: response.deleted, prev_kvs: (response.prevKvs ?? []).map(keyValueMessage) };
}
