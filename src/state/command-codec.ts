/**
 * How KV commands travel in log entries. The first codec is JSON with bytes as base64
 * ({"$b64": "..."}): easy to read in a trace and deterministic, but slow and 4/3 larger for
 * binary values. Everything goes through the KvCommandCodec interface so a binary codec (for
 * example msgpackr) can replace it; a log must then record which codec wrote each entry.
 *
 * decode validates the shape fully: a malformed entry must come back as a typed failure on
 * every replica alike, never as an exception half-way through apply.
 */
import { Buffer } from 'node:buffer';
import { QuorateError } from '../util/errors.js';
import type { KvCommand } from './types.js';

export interface KvCommandCodec {
  encode(command: KvCommand): Uint8Array;
  /** Throws QuorateError('bad_command') on malformed data. */
  decode(data: Uint8Array): KvCommand;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

type Json = Record<string, unknown>;

function bad(message: string): never {
  throw new QuorateError('bad_command', `malformed KV command: ${message}`);
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { $b64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  // A Buffer reaches the replacer already turned into {type: 'Buffer', data: [...]} by its toJSON.
  if (isRecord(value) && value.type === 'Buffer' && Array.isArray(value.data) && Object.keys(value).length === 2) {
    return { $b64: Buffer.from(value.data as number[]).toString('base64') };
  }
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (isRecord(value) && typeof value.$b64 === 'string' && Object.keys(value).length === 1) {
    return new Uint8Array(Buffer.from(value.$b64, 'base64'));
  }
  return value;
}

function expectType(record: Json, field: string, kind: 'bytes' | 'number' | 'boolean', optional: boolean): void {
  const value = record[field];
  if (value === undefined && optional) return;
  const ok = kind === 'bytes' ? value instanceof Uint8Array : typeof value === kind;
  if (!ok) bad(`${field} must be ${optional ? 'absent or ' : ''}${kind}`);
}

function expectFields(record: Json, required: FieldKinds, optional: FieldKinds): void {
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

function checkTxnOp(value: unknown): void {
  if (!isRecord(value)) bad('txn op');
  if (value.op !== 'put' && value.op !== 'deleteRange' && value.op !== 'range') bad('txn op must be put, deleteRange or range');
  checkRequest(value);
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

function checkRequest(record: Json): void {
  if (record.op === 'txn') {
    checkList(record.compares, checkCompare);
    checkList(record.success, checkTxnOp);
    checkList(record.failure, checkTxnOp);
    return;
  }
  const schema = typeof record.op === 'string' && Object.hasOwn(schemas, record.op) ? schemas[record.op] : undefined;
  if (schema === undefined) bad('unknown op');
  expectFields(record, schema[0], schema[1]);
}

export const jsonKvCodec: KvCommandCodec = {
  encode(command: KvCommand): Uint8Array {
    return encoder.encode(JSON.stringify(command, replacer));
  },
  decode(data: Uint8Array): KvCommand {
    let parsed: unknown;
    try {
      parsed = JSON.parse(decoder.decode(data), reviver);
    } catch {
      bad('not JSON');
    }
    if (!isRecord(parsed) || parsed.op === 'range') bad('not a logged command');
    checkRequest(parsed);
    // The checks above establish exactly the KvCommand shape.
    return parsed as unknown as KvCommand;
  },
};
