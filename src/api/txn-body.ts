/**
 * POST /v1/txn's JSON body (TxnRequestJson in wire.ts) into the state machine's TxnRequest.
 * zod checks the shape and names the offending field; byte fields are then decoded by hand,
 * because "text or base64, exactly one" is a rule about pairs of fields. Limits on the number
 * of compares and operations are the state machine's (txnOpsMax, txnComparesMax); the body
 * limit below keeps the parse itself bounded.
 */
import { z } from 'zod';
import { prefixEnd, valueBytesMax, type Compare, type TxnOp, type TxnRequest } from '../state/index.js';
import { badRequest } from './errors.js';
import { bytesFromJson } from './json-bytes.js';
import { parseWith } from './schema.js';

/** Room for one value of valueBytesMax sent as base64 (4/3 larger), plus the rest of the JSON. */
export const jsonBodyBytesMax = Math.ceil((valueBytesMax * 4) / 3) + 64 * 1024;

const keyFields = { key: z.string().optional(), keyBase64: z.string().optional() };
const valueFields = { value: z.string().optional(), valueBase64: z.string().optional() };
const count = z.int().nonnegative();
const result = z.enum(['equal', 'notEqual', 'less', 'greater']);
const prefix = z.boolean().optional();

const compareSchema = z.discriminatedUnion('target', [
  z.strictObject({ ...keyFields, ...valueFields, prefix, result, target: z.literal('value') }),
  z.strictObject({ ...keyFields, prefix, result, target: z.enum(['version', 'createRevision', 'modRevision', 'lease']), value: z.int() }),
]);

const opSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('put'), ...keyFields, ...valueFields, lease: count.optional() }),
  z.strictObject({ op: z.literal('delete'), ...keyFields, prefix }),
  z.strictObject({ op: z.literal('get'), ...keyFields, prefix, limit: count.optional(), keysOnly: z.boolean().optional(), revision: count.optional() }),
]);

const txnSchema = z.strictObject({
  compares: z.array(compareSchema).default([]),
  success: z.array(opSchema).default([]),
  failure: z.array(opSchema).default([]),
});

type OpJson = z.infer<typeof opSchema>;
type CompareJson = z.infer<typeof compareSchema>;

function requiredBytes(record: Readonly<Record<string, unknown>>, field: string, where: string): Uint8Array {
  const bytes = bytesFromJson(record, field);
  if (bytes === undefined) throw badRequest(`${where}: ${field} or ${field}Base64 is required`);
  if (!(bytes instanceof Uint8Array)) throw badRequest(`${where}: ${bytes.problem}`);
  return bytes;
}

function keyRange(json: Readonly<Record<string, unknown>> & { readonly prefix?: boolean | undefined }, where: string): { key: Uint8Array; rangeEnd: Uint8Array | undefined } {
  const key = requiredBytes(json, 'key', where);
  return { key, rangeEnd: json.prefix === true ? prefixEnd(key) : undefined };
}

function toCompare(json: CompareJson, where: string): Compare {
  const { key, rangeEnd } = keyRange(json, where);
  if (json.target === 'value') return { target: 'value', key, rangeEnd, result: json.result, value: requiredBytes(json, 'value', where) };
  return { target: json.target, key, rangeEnd, result: json.result, value: json.value };
}

function toOp(json: OpJson, where: string): TxnOp {
  switch (json.op) {
    case 'put':
      return { op: 'put', key: requiredBytes(json, 'key', where), value: requiredBytes(json, 'value', where), lease: json.lease };
    case 'delete':
      return { op: 'deleteRange', ...keyRange(json, where) };
    case 'get':
      return { op: 'range', ...keyRange(json, where), limit: json.limit, keysOnly: json.keysOnly, revision: json.revision };
  }
}

/** Throws a bad_request ApiError naming the field at fault. */
export function parseTxnRequest(body: unknown): TxnRequest {
  const { compares, success, failure } = parseWith(txnSchema, body, 'txn body');
  return {
    op: 'txn',
    compares: compares.map((compare, i) => toCompare(compare, `compares[${i}]`)),
    success: success.map((op, i) => toOp(op, `success[${i}]`)),
    failure: failure.map((op, i) => toOp(op, `failure[${i}]`)),
  };
}
