/**
 * Requests in the API's encoding: keys percent-encoded byte by byte in paths and query strings
 * (every byte but the URL-unreserved ones, so "/", "+" and non-UTF-8 bytes survive), and txn
 * bodies in the JSON of api/wire.ts.
 */
import { bytesJson, utf8Bytes, type CompareJson, type TxnOpJson, type TxnRequestJson } from '../api/index.js';
import type { Bytes, CompareInput, TxnInput, TxnOpInput } from './types.js';

export function toBytes(bytes: Bytes): Uint8Array {
  return typeof bytes === 'string' ? utf8Bytes(bytes) : bytes;
}

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    byte === 0x2d || // -
    byte === 0x2e || // .
    byte === 0x5f || // _
    byte === 0x7e // ~
  );
}

export function percentEncode(bytes: Bytes): string {
  let text = '';
  for (const byte of toBytes(bytes)) text += isUnreserved(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return text;
}

export type QueryValue = Bytes | number | boolean | undefined;

/** "?a=1&b=x" from the defined entries, or "" when there are none. */
export function queryString(params: Readonly<Record<string, QueryValue>>): string {
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    pairs.push(`${name}=${typeof value === 'number' || typeof value === 'boolean' ? String(value) : percentEncode(value)}`);
  }
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}

function compareJson(compare: CompareInput): CompareJson {
  const common = { ...bytesJson('key', toBytes(compare.key)), result: compare.result, prefix: compare.prefix };
  if (compare.target === 'value') return { ...common, target: 'value', ...bytesJson('value', toBytes(compare.value)) };
  return { ...common, target: compare.target, value: compare.value };
}

function opJson(op: TxnOpInput): TxnOpJson {
  const key = bytesJson('key', toBytes(op.key));
  switch (op.op) {
    case 'put':
      return { op: 'put', ...key, ...bytesJson('value', toBytes(op.value)), lease: op.lease };
    case 'delete':
      return { op: 'delete', ...key, prefix: op.prefix };
    case 'get':
      return { op: 'get', ...key, prefix: op.prefix, limit: op.limit, keysOnly: op.keysOnly, revision: op.revision };
  }
}

export function txnJson(txn: TxnInput): TxnRequestJson {
  return { compares: (txn.compares ?? []).map(compareJson), success: (txn.success ?? []).map(opJson), failure: (txn.failure ?? []).map(opJson) };
}
