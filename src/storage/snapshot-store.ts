/**
 * Snapshot files, one per snapshot, named `<index>-<term>.snap` (16 hex digits each) so they
 * sort by index: `[magic "QSN1"][crc32c u32][meta length u32][meta JSON][state machine bytes]`,
 * the CRC covering everything after it. Each is written atomically; the newest few are kept.
 * Loading verifies the checksum and refuses a damaged file instead of falling back to an
 * older snapshot, whose log prefix may already be gone.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Snapshot, SnapshotMeta } from '../raft/index.js';
import { crc32c } from './crc32c.js';
import { StorageError, corruptionAdvice } from './errors.js';
import { fsyncDir, writeFileAtomic } from './files.js';

const magic = 0x314e5351; // "QSN1"
const headerBytes = 12;

export function snapshotFileName(meta: SnapshotMeta): string {
  return `${meta.index.toString(16).padStart(16, '0')}-${meta.term.toString(16).padStart(16, '0')}.snap`;
}

export function encodeSnapshot(snapshot: Snapshot): Uint8Array {
  const meta = new TextEncoder().encode(JSON.stringify(snapshot.meta));
  const out = new Uint8Array(headerBytes + meta.byteLength + snapshot.data.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, true);
  view.setUint32(8, meta.byteLength, true);
  out.set(meta, headerBytes);
  out.set(snapshot.data, headerBytes + meta.byteLength);
  view.setUint32(4, crc32c(out, 8), true);
  return out;
}

export function decodeSnapshot(bytes: Uint8Array, path: string): Snapshot {
  const corrupt = (offset: number, what: string): StorageError =>
    new StorageError('CorruptSnapshot', `snapshot ${path} is damaged at offset ${offset}: ${what}. ${corruptionAdvice}`);
  if (bytes.byteLength < headerBytes) throw corrupt(bytes.byteLength, 'it is cut short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== magic) throw corrupt(0, 'it does not start with the snapshot marker');
  const metaBytes = view.getUint32(8, true);
  if (headerBytes + metaBytes > bytes.byteLength) throw corrupt(8, `its metadata length (${metaBytes}) runs past the end of the file`);
  if (crc32c(bytes, 8) !== view.getUint32(4, true)) throw corrupt(8, `checksum mismatch over bytes 8 to ${bytes.byteLength}`);
  const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(headerBytes, headerBytes + metaBytes))) as SnapshotMeta;
  return { meta, data: bytes.subarray(headerBytes + metaBytes) };
}

export class SnapshotStore {
  constructor(
    readonly dir: string,
    private readonly keep: number,
  ) {}

  /** Write the snapshot atomically, then remove all but the newest `keep` snapshots; answers the file's size. */
  async save(snapshot: Snapshot): Promise<number> {
    const bytes = encodeSnapshot(snapshot);
    await writeFileAtomic(join(this.dir, snapshotFileName(snapshot.meta)), bytes, this.dir);
    const names = await this.names();
    const old = names.slice(0, Math.max(0, names.length - this.keep));
    for (const name of old) await rm(join(this.dir, name), { force: true });
    if (old.length > 0) await fsyncDir(this.dir);
    return bytes.byteLength;
  }

  /** The newest snapshot, verified; null if there is none. */
  async loadNewest(): Promise<Snapshot | null> {
    const newest = (await this.names()).pop();
    if (newest === undefined) return null;
    const path = join(this.dir, newest);
    const snapshot = decodeSnapshot(await readFile(path), path);
    if (snapshotFileName(snapshot.meta) !== newest) {
      throw new StorageError('CorruptSnapshot', `snapshot ${path} holds index ${snapshot.meta.index} term ${snapshot.meta.term}, which does not match its name. ${corruptionAdvice}`);
    }
    return snapshot;
  }

  /** Snapshot file names, oldest first. */
  private async names(): Promise<string[]> {
    return (await readdir(this.dir)).filter((n) => /^[0-9a-f]{16}-[0-9a-f]{16}\.snap$/.test(n)).sort();
  }
}
