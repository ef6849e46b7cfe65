/**
 * The key prefix of an API token (`acl token create --prefix P`): every key a KV request names
 * or ranges over must start with P. A range is inside the prefix when its start starts with P
 * and its end is at most the prefix's own range end (the first key after every key with P).
 */
import type { Principal } from '../server/index.js';
import { prefixEnd } from '../state/index.js';
import { ApiError } from './errors.js';

/** `rangeEnd` as etcd gives it: absent or empty for one key, [0] for every key from `key` on. */
export function allowKeys(principal: Principal | null, key: Uint8Array, rangeEnd?: Uint8Array): void {
  const refusal = keysRefusal(principal, key, rangeEnd);
  if (refusal !== null) throw new ApiError('forbidden', refusal);
}

/** Why the principal may not touch these keys, or null when it may (the gRPC API words it as etcd does). */
export function keysRefusal(principal: Principal | null, key: Uint8Array, rangeEnd?: Uint8Array): string | null {
  const prefix = principal?.prefix ?? null;
  if (prefix === null) return null;
  const bytes = Buffer.from(prefix);
  const inside = key.byteLength >= bytes.byteLength && Buffer.compare(Buffer.from(key.subarray(0, bytes.byteLength)), bytes) === 0;
  const everyKeyOn = rangeEnd !== undefined && rangeEnd.byteLength === 1 && rangeEnd[0] === 0;
  const pastPrefix = rangeEnd !== undefined && rangeEnd.byteLength > 0 && (everyKeyOn || Buffer.compare(Buffer.from(rangeEnd), Buffer.from(prefixEnd(bytes))) > 0);
  if (!inside || pastPrefix) {
    return `this token may only touch keys that start with ${JSON.stringify(prefix)}, not ${JSON.stringify(Buffer.from(key).toString('utf8'))}${pastPrefix ? ' and beyond' : ''}`;
  }
  return null;
}
