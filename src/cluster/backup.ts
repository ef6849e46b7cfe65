/**
 * The backup file of `quorate snapshot save` and `quorate cluster restore`: the whole replicated
 * state (KV with its history, members, credentials) as of one applied index, with a checksum.
 *
 * Layout: "QBAK" [u8 version 1] [u32 length of the header JSON] [header JSON] [state bytes]
 * [u32 CRC-32C of everything before it], big-endian. The header says where the state comes from:
 * cluster id, applied index, KV revision and when it was taken.
 */
import { Buffer } from 'node:buffer';
import { crc32c } from '../storage/crc32c.js';
import { QuorateError } from '../util/errors.js';

const magic = Buffer.from('QBAK');
const version = 1;

export interface BackupHeader {
  readonly clusterId: string;
  readonly index: number;
  readonly revision: number;
  readonly createdAt: string;
}

export interface Backup {
  readonly header: BackupHeader;
  /** ClusterStateMachine.snapshot() bytes. */
  readonly state: Uint8Array;
}

export function encodeBackup(backup: Backup): Uint8Array {
  const header = Buffer.from(JSON.stringify(backup.header));
  const head = Buffer.alloc(magic.byteLength + 1 + 4);
  magic.copy(head);
  head.writeUInt8(version, magic.byteLength);
  head.writeUInt32BE(header.byteLength, magic.byteLength + 1);
  const body = Buffer.concat([head, header, backup.state]);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32c(body));
  return Buffer.concat([body, checksum]);
}

export function decodeBackup(bytes: Uint8Array, source: string): Backup {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fixed = magic.byteLength + 1 + 4;
  if (data.byteLength < fixed + 4 || !data.subarray(0, magic.byteLength).equals(magic)) throw new QuorateError('bad_backup', `${source} is not a Quorate snapshot file (made by \`quorate snapshot save\`)`);
  if (data.readUInt32BE(data.byteLength - 4) !== crc32c(data, 0, data.byteLength - 4)) {
    throw new QuorateError('bad_backup', `${source} is damaged: its checksum does not match (truncated or changed since it was saved)`);
  }
  const fileVersion = data.readUInt8(magic.byteLength);
  if (fileVersion !== version) throw new QuorateError('bad_backup', `${source} has format version ${fileVersion}; this quorate reads version ${version}`);
  const headerLength = data.readUInt32BE(magic.byteLength + 1);
  if (fixed + headerLength > data.byteLength - 4) throw new QuorateError('bad_backup', `${source} is damaged: its header overruns the file`);
  const header = JSON.parse(data.subarray(fixed, fixed + headerLength).toString('utf8')) as BackupHeader;
  return { header, state: new Uint8Array(data.subarray(fixed + headerLength, data.byteLength - 4)) };
}
