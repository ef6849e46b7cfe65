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
import { crc32c, crc32cInSlices } from './crc32c.js';
import { StorageError, corruptionAdvice } from './errors.js';
import { fsyncDir, readWhole, writeFileAtomicWith } from './files.js';

const magic = 0x314e5351; // "QSN1"
const headerBytes = 12;

export function snapshotFileName(meta: SnapshotMeta): string {
  return `${meta.index.toString(16).padStart(16, '0')}-${meta.term.toString(16).padStart(16, '0')}.snap`;
}

/** Magic, room for the CRC, and the metadata: what precedes the data. */
function snapshotHead(meta: SnapshotMeta): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(meta));
  const head = new Uint8Array(headerBytes + json.byteLength);
  const view = new DataView(head.buffer);
  view.setUint32(0, magic, true);
  view.setUint32(8, json.byteLength, true);
  head.set(json, headerBytes);
  return head;
}

function crcBytes(crc: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, crc, true);
  return bytes;
}

export function decodeSnapshot(bytes: Uint8Array, path: string): Snapshot {
  const header = checkHeader(bytes, path);
  if (crc32c(bytes, 8) !== header.crc) throw header.corrupt(8, `checksum mismatch over bytes 8 to ${bytes.byteLength}`);
  return readBody(bytes, header.metaBytes);
}

function checkHeader(bytes: Uint8Array, path: string): { readonly crc: number; readonly metaBytes: number; readonly corrupt: (offset: number, what: string) => StorageError } {
  const corrupt = (offset: number, what: string): StorageError =>
    new StorageError('CorruptSnapshot', `snapshot ${path} is damaged at offset ${offset}: ${what}. ${corruptionAdvice}`);
  if (bytes.byteLength < headerBytes) throw corrupt(bytes.byteLength, 'it is cut short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== magic) throw corrupt(0, 'it does not start with the snapshot marker');
  const metaBytes = view.getUint32(8, true);
  if (headerBytes + metaBytes > bytes.byteLength) throw corrupt(8, `its metadata length (${metaBytes}) runs past the end of the file`);
  return { crc: view.getUint32(4, true), metaBytes, corrupt };
}

function readBody(bytes: Uint8Array, metaBytes: number): Snapshot {
  const meta = JSON.parse(new TextDecoder().decode(bytes.subarray(headerBytes, headerBytes + metaBytes))) as SnapshotMeta;
  return { meta, data: bytes.subarray(headerBytes + metaBytes) };
}

export class SnapshotStore {
  constructor(
    readonly dir: string,
    private readonly keep: number,
  ) {}

  /** Write the snapshot atomically, then remove all but the newest `keep` snapshots; answers the file's size. */
  save(snapshot: Snapshot): Promise<number> {
    return this.saveChunks(snapshot.meta, [snapshot.data]);
  }

  /**
   * save() for data that arrives in chunks: each is checksummed and written as it comes, so
   * the snapshot is never whole in memory. Atomic as save() is: the file gets its name only
   * once complete and fsynced.
   */
  async saveChunks(meta: SnapshotMeta, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number> {
    const head = snapshotHead(meta);
    let bytes = head.byteLength;
    await writeFileAtomicWith(join(this.dir, snapshotFileName(meta)), this.dir, async (handle) => {
      await handle.write(head, 0, head.byteLength, 0);
      let crc = crc32c(head, 8);
      for await (const chunk of chunks) {
        crc = await crc32cInSlices(chunk, crc);
        await handle.write(chunk, 0, chunk.byteLength, bytes);
        bytes += chunk.byteLength;
      }
      // The checksum covers everything after it, so it is written last, into its place.
      await handle.write(crcBytes(crc), 0, 4, 4);
    });
    await this.prune();
    return bytes;
  }

  /**
   * The snapshot with this metadata if its file is still kept (null once newer ones replaced
   * it), verified a slice at a time: it is read to be sent to a follower by a busy leader.
   */
  async load(meta: SnapshotMeta): Promise<Snapshot | null> {
    const path = join(this.dir, snapshotFileName(meta));
    let bytes: Uint8Array;
    try {
      bytes = await readWhole(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const header = checkHeader(bytes, path);
    if ((await crc32cInSlices(bytes.subarray(8))) !== header.crc) throw header.corrupt(8, `checksum mismatch over bytes 8 to ${bytes.byteLength}`);
    return readBody(bytes, header.metaBytes);
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

  /** Remove all but the newest `keep` snapshots. */
  private async prune(): Promise<void> {
    const names = await this.names();
    const old = names.slice(0, Math.max(0, names.length - this.keep));
    for (const name of old) await rm(join(this.dir, name), { force: true });
    if (old.length > 0) await fsyncDir(this.dir);
  }

  /** Snapshot file names, oldest first. */
  private async names(): Promise<string[]> {
    return (await readdir(this.dir)).filter((n) => /^[0-9a-f]{16}-[0-9a-f]{16}\.snap$/.test(n)).sort();
  }
}
