/**
 * How KV commands travel in log entries: msgpack, with keys and values as msgpack binary, so a
 * 256-byte value costs 256 bytes (JSON's base64 cost 4/3 of it and a reviver pass on every
 * replica; the profile of a 64-client write load had that codec among its largest costs).
 * Everything goes through the KvCommandCodec interface; a log records which codec wrote each
 * entry through the tag byte in front of it (cluster-machine.ts).
 *
 * decode validates the shape fully: a malformed entry must come back as a typed failure on
 * every replica alike, never as an exception half-way through apply.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { QuorateError } from '../util/errors.js';
import { txnDepthMax, type KvCommand } from './types.js';

export interface KvCommandCodec {
  encode(command: KvCommand): Uint8Array;
  /** Throws QuorateError('bad_command') on malformed data. */
  decode(data: Uint8Array): KvCommand;
}

// Optional fields left undefined are omitted rather than written as nil, as JSON would.
const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder();

type Record_ = Record<string, unknown>;

function bad(message: string): never {
  throw new QuorateError('bad_command', `malformed KV command: ${message}`);
}

function isRecord(value: unknown): value is Record_ {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * Binary fields come out of the decoder as views into the entry's buffer, which may be a whole
 * replication frame; they are copied, so that a stored value never keeps a frame alive.
 */
function expectType(record: Record_, field: string, kind: 'bytes' | 'number' | 'boolean', optional: boolean): void {
  const value = record[field];
  if (value === undefined && optional) return;
  const ok = kind === 'bytes' ? value instanceof Uint8Array : typeof value === kind;
  if (!ok) bad(`${field} must be ${optional ? 'absent or ' : ''}${kind}`);
  if (value instanceof Uint8Array) record[field] = value.slice();
}

function expectFields(record: Record_, required: FieldKinds, optional: FieldKinds): void {
  for (const [field, kind] of Object.entries(required)) expectType(record, field, kind, false);
  for (const [field, kind] of Object.entries(optional)) expectType(record, field, kind, true);
}

const compareTargets = new Set(['value', 'version', 'createRevision', 'modRevision', 'lease']);
const compareResults = new Set(['equal', 'notEqual', 'less', 'greater']);

function checkCompare(value: unknown): void {
  if (!isRecord(value) || typeof value.target !== 'string' || !compareTargets.has(value.target)) bad('compare target');
  if (typeof value.result !== 'string' || !compareResults.has(value.result)) bad('compare result');
  expectFields(value, { key: 'bytes', value: value.target === 'value' ? 'bytes' : 'number' }, { rangeEnd: 'bytes' });
}

/** `depth`: how many transactions enclose the op; bounded so a crafted entry cannot recurse without end. */
function checkTxnOp(value: unknown, depth: number): void {
  if (!isRecord(value)) bad('txn op');
  if (value.op !== 'put' && value.op !== 'deleteRange' && value.op !== 'range' && value.op !== 'txn') bad('txn op must be put, deleteRange, range or txn');
  if (value.op === 'txn' && depth >= txnDepthMax) bad(`transactions nest at most ${txnDepthMax} deep`);
  checkRequest(value, depth);
}

function checkList(value: unknown, check: (item: unknown) => void): void {
  if (!Array.isArray(value)) bad('expected a list');
  for (const item of value as unknown[]) check(item);
}

type FieldKinds = Record<string, 'bytes' | 'number' | 'boolean'>;

/** Required and optional fields of every flat request; txn is checked separately. */
const schemas: Record<string, readonly [FieldKinds, FieldKinds]> = {
  put: [{ key: 'bytes', value: 'bytes' }, { lease: 'number', prevKv: 'boolean', ignoreValue: 'boolean', ignoreLease: 'boolean' }],
  deleteRange: [{ key: 'bytes' }, { rangeEnd: 'bytes', prevKv: 'boolean' }],
  range: [{ key: 'bytes' }, { rangeEnd: 'bytes', revision: 'number', limit: 'number', keysOnly: 'boolean', countOnly: 'boolean' }],
  leaseGrant: [{ id: 'number', ttlSeconds: 'number' }, {}],
  leaseRevoke: [{ id: 'number' }, {}],
  compact: [{ revision: 'number' }, {}],
};

function checkRequest(record: Record_, depth: number): void {
  if (record.op === 'txn') {
    const checkOp = (op: unknown): void => checkTxnOp(op, depth + 1);
    checkList(record.compares, checkCompare);
    checkList(record.success, checkOp);
    checkList(record.failure, checkOp);
    return;
  }
  const schema = typeof record.op === 'string' && Object.hasOwn(schemas, record.op) ? schemas[record.op] : undefined;
  if (schema === undefined) bad('unknown op');
  expectFields(record, schema[0], schema[1]);
}

export const msgpackKvCodec: KvCommandCodec = {
  encode(command: KvCommand): Uint8Array {
    return encoder.encode(command);
  },
  decode(data: Uint8Array): KvCommand {
    let parsed: unknown;
    try {
      parsed = decoder.decode(data);
    } catch {
      bad('not msgpack');
    }
    if (!isRecord(parsed) || parsed.op === 'range') bad('not a logged command');
    checkRequest(parsed, 0);
    // The checks above establish exactly the KvCommand shape.
    return parsed as unknown as KvCommand;
  },
};
