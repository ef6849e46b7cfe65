/**
 * 64-bit integers from the wire. They arrive as decimal strings (protocol.ts); Quorate's
 * revisions and lease ids are safe JavaScript integers, so anything beyond 2^53 cannot name
 * one and is refused rather than rounded to a neighbour.
 */
import { status } from '@grpc/grpc-js';
import { GrpcError } from './errors.js';

export function int64(text: string, field: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new GrpcError(status.INVALID_ARGUMENT, `etcdserver: ${field} ${text} is out of the range Quorate supports (|n| < 2^53)`);
  return value;
}
