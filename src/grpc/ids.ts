/**
 * The 64-bit ids etcd clients see. etcd numbers clusters and members with uint64s; Quorate has
 * a 16-hex-digit cluster id and string node ids, so both are mapped here, in one place, so that
 * every response header, MemberList and Status agree on them. Ids travel as decimal strings:
 * a uint64 does not fit a JavaScript number, and the protobuf encoder accepts strings.
 */
import { createHash } from 'node:crypto';

/** The cluster id (hex, from the CA fingerprint) read as an unsigned 64-bit number. */
export function clusterIdOf(clusterIdHex: string): string {
  return BigInt(`0x${clusterIdHex.slice(0, 16) || '0'}`).toString();
}

/**
 * A stable member id for a node: the first 8 bytes of sha256(node id), as a uint64. Node ids are
 * short strings chosen by people ("1", "node-a"), so they are hashed rather than parsed: the
 * result is the same on every node and across restarts, and never 0 in practice.
 */
export function memberIdOf(nodeId: string): string {
  return createHash('sha256').update(nodeId).digest().readBigUInt64BE(0).toString();
}
