/**
 * Shape checks on requests: sizes, integer fields, flag combinations and the keys a
 * transaction touches. They depend only on the request, so a transaction is checked completely
 * before it changes anything (a half-applied transaction would break atomicity).
 */
import { bytesToBinary, inRange, toBinaryRange, type BinaryRange } from './keys.js';
import {
  keyBytesMax,
  kvFailure,
  txnComparesMax,
  txnDepthMax,
  txnOpsMax,
  valueBytesMax,
  type Compare,
  type DeleteRangeRequest,
  type KvFailure,
  type PutRequest,
  type RangeRequest,
  type TxnOp,
  type TxnRequest,
} from './types.js';

export function isCount(value: number | undefined): boolean {
  return value === undefined || (Number.isSafeInteger(value) && value >= 0);
}

export function checkKey(key: Uint8Array, rangeEnd?: Uint8Array): KvFailure | null {
  if (key.byteLength === 0) return kvFailure('empty_key', 'key is empty');
  if (key.byteLength > keyBytesMax || (rangeEnd?.byteLength ?? 0) > keyBytesMax) {
    return kvFailure('key_too_large', `keys are limited to ${keyBytesMax} bytes (keyBytesMax)`);
  }
  return null;
}

export function checkPutShape(request: PutRequest): KvFailure | null {
  const keyFailure = checkKey(request.key);
  if (keyFailure !== null) return keyFailure;
  if (request.value.byteLength > valueBytesMax) {
    return kvFailure('value_too_large', `values are limited to ${valueBytesMax} bytes (valueBytesMax)`);
  }
  if (!isCount(request.lease)) return kvFailure('invalid_lease_id', 'lease must be a non-negative integer');
  if (request.ignoreValue === true && request.value.byteLength > 0) {
    return kvFailure('value_provided', 'ignoreValue is set, so the value must be empty');
  }
  if (request.ignoreLease === true && (request.lease ?? 0) !== 0) {
    return kvFailure('lease_provided', 'ignoreLease is set, so the lease must be 0');
  }
  return null;
}

export function checkDeleteShape(request: DeleteRangeRequest): KvFailure | null {
  return checkKey(request.key, request.rangeEnd);
}

export function checkRangeShape(request: RangeRequest): KvFailure | null {
  const keyFailure = checkKey(request.key, request.rangeEnd);
  if (keyFailure !== null) return keyFailure;
  if (!isCount(request.limit)) return kvFailure('invalid_argument', 'limit must be a non-negative integer');
  if (!isCount(request.revision)) return kvFailure('invalid_argument', 'revision must be a non-negative integer');
  return null;
}

/** `depth`: how many transactions enclose the op (1 for an op of a top-level txn). */
export function checkOpShape(op: TxnOp, depth: number): KvFailure | null {
  switch (op.op) {
    case 'put':
      return checkPutShape(op);
    case 'deleteRange':
      return checkDeleteShape(op);
    case 'range':
      return checkRangeShape(op);
    case 'txn':
      return depth >= txnDepthMax ? kvFailure('too_many_ops', `transactions nest at most ${txnDepthMax} deep (txnDepthMax)`) : checkTxnOps(op, depth + 1);
  }
}

function checkCompareShape(compare: Compare): KvFailure | null {
  const keyFailure = checkKey(compare.key, compare.rangeEnd);
  if (keyFailure !== null) return keyFailure;
  if (compare.target === 'value') {
    return compare.value.byteLength > valueBytesMax ? kvFailure('value_too_large', 'compare value too large') : null;
  }
  return Number.isSafeInteger(compare.value) ? null : kvFailure('invalid_argument', 'compare value must be an integer');
}

interface BranchWrites {
  readonly puts: Set<string>;
  readonly deletes: BinaryRange[];
}

const putTwice = (): KvFailure => kvFailure('duplicate_key', 'a transaction puts the same key twice');
const putDeleted = (): KvFailure => kvFailure('duplicate_key', 'a transaction puts a key it also deletes');

/**
 * As etcd's checkIntervals: a branch may not put one key twice, nor put a key that one of its
 * deleteRanges covers, because each key changes at most once per revision. A nested txn's
 * writes count with the branch's, except that its two branches may put the same key (only
 * one of them runs).
 */
function branchWrites(ops: readonly TxnOp[]): BranchWrites | KvFailure {
  const puts = new Set<string>();
  const deletes: BinaryRange[] = [];
  for (const op of ops) if (op.op === 'deleteRange') deletes.push(toBinaryRange(op.key, op.rangeEnd));
  const deleted = (key: string): boolean => deletes.some((range) => inRange(range, key));
  for (const op of ops) {
    if (op.op !== 'txn') continue;
    const then = branchWrites(op.success);
    const otherwise = branchWrites(op.failure);
    if ('ok' in then) return then;
    if ('ok' in otherwise) return otherwise;
    for (const key of then.puts) {
      if (puts.has(key)) return putTwice();
      if (deleted(key)) return putDeleted();
    }
    for (const key of otherwise.puts) {
      if (puts.has(key) && !then.puts.has(key)) return putTwice();
      if (deleted(key)) return putDeleted();
    }
    for (const key of [...then.puts, ...otherwise.puts]) puts.add(key);
    deletes.push(...then.deletes, ...otherwise.deletes);
  }
  for (const op of ops) {
    if (op.op !== 'put') continue;
    const key = bytesToBinary(op.key);
    if (puts.has(key)) return putTwice();
    if (deleted(key)) return putDeleted();
    puts.add(key);
  }
  return { puts, deletes };
}

export function checkTxnShape(request: TxnRequest): KvFailure | null {
  const failure = checkTxnOps(request, 1);
  if (failure !== null) return failure;
  for (const ops of [request.success, request.failure]) {
    const writes = branchWrites(ops);
    if ('ok' in writes) return writes;
  }
  return null;
}

function checkTxnOps(request: TxnRequest, depth: number): KvFailure | null {
  if (request.compares.length > txnComparesMax) return kvFailure('too_many_ops', `at most ${txnComparesMax} compares (txnComparesMax)`);
  if (request.success.length > txnOpsMax || request.failure.length > txnOpsMax) {
    return kvFailure('too_many_ops', `at most ${txnOpsMax} operations per branch (txnOpsMax)`);
  }
  for (const compare of request.compares) {
    const failure = checkCompareShape(compare);
    if (failure !== null) return failure;
  }
  for (const op of [...request.success, ...request.failure]) {
    const failure = checkOpShape(op, depth);
    if (failure !== null) return failure;
  }
  return null;
}
