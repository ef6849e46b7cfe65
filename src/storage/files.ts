/**
 * File primitives with the durability rules the storage layer relies on: a file replaced
 * atomically (write a temp file, fsync it, rename it over the old one, fsync the directory, so
 * a crash leaves either the old or the new file, never a mix), directory fsyncs after creating
 * or removing files, and clean-up of temp files a crash left behind.
 */
import { open, readdir, rename, rm, mkdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export const tempSuffix = '.tmp';

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Write `data` to `path` so that after a crash the file is either the old or the new one. */
export async function writeFileAtomic(path: string, data: Uint8Array, dir: string): Promise<void> {
  await writeFileAtomicWith(path, dir, (handle) => handle.writeFile(data));
}

/** writeFileAtomic for contents that `write` produces on the open file, in pieces or out of order. */
export async function writeFileAtomicWith(path: string, dir: string, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  const temp = `${path}${tempSuffix}`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await write(handle);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  await fsyncDir(dir);
}

/** A whole file in one read into one buffer (readFile reads in small chunks). */
export async function readWhole(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const bytes = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const { bytesRead } = await handle.read(bytes, at, size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return at === size ? bytes : bytes.subarray(0, at);
  } finally {
    await handle.close();
  }
}

/** Create a private directory (mode 0700) if it does not exist. */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

/** Remove temp files a crash left in the middle of an atomic write; returns their names. */
export async function removeTempFiles(dir: string): Promise<string[]> {
  const stale = (await readdir(dir)).filter((name) => name.endsWith(tempSuffix));
  for (const name of stale) await rm(join(dir, name), { force: true });
  if (stale.length > 0) await fsyncDir(dir);
  return stale;
}
