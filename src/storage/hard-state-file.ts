/**
 * The hard state (term and vote, with the commit index known when they changed) in its own
 * small file, replaced atomically whenever term or vote change: `[magic "QHS1"][crc32c u32]
 * [term f64][commit f64][vote length u16][vote utf8]`, the CRC covering everything after it.
 * Term and vote change only in elections, so the extra fsyncs cost nothing in steady state;
 * commit moves in WAL records instead.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HardState } from '../raft/index.js';
import { crc32c } from './crc32c.js';
import { StorageError, corruptionAdvice } from './errors.js';
import { writeFileAtomic } from './files.js';

const magic = 0x31534851; // "QHS1"
export const hardStateFileName = 'hardstate';

export function encodeHardState(hs: HardState): Uint8Array {
  const vote = new TextEncoder().encode(hs.vote ?? '');
  const out = new Uint8Array(8 + 18 + vote.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, true);
  view.setFloat64(8, hs.term, true);
  view.setFloat64(16, hs.commit, true);
  view.setUint16(24, vote.byteLength, true);
  out.set(vote, 26);
  view.setUint32(4, crc32c(out, 8), true);
  return out;
}

export async function writeHardState(dir: string, hs: HardState): Promise<void> {
  await writeFileAtomic(join(dir, hardStateFileName), encodeHardState(hs), dir);
}

/** The stored hard state, null when there is none yet; damage is an error naming the file. */
export async function readHardState(dir: string): Promise<HardState | null> {
  const path = join(dir, hardStateFileName);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const corrupt = (offset: number, what: string): StorageError =>
    new StorageError('CorruptHardState', `hard state file ${path} is damaged at offset ${offset}: ${what}. ${corruptionAdvice}`);
  if (bytes.byteLength < 26) throw corrupt(bytes.byteLength, `it is cut short (${bytes.byteLength} of at least 26 bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== magic) throw corrupt(0, 'it does not start with the hard state marker');
  const voteBytes = view.getUint16(24, true);
  if (bytes.byteLength !== 26 + voteBytes) throw corrupt(24, `its length (${bytes.byteLength} bytes) does not match its contents (${26 + voteBytes})`);
  if (crc32c(bytes, 8) !== view.getUint32(4, true)) throw corrupt(8, 'checksum mismatch over bytes 8 and after');
  const term = view.getFloat64(8, true);
  const commit = view.getFloat64(16, true);
  const vote = new TextDecoder().decode(bytes.subarray(26));
  return { term, commit, vote: vote === '' ? null : vote };
}
