/**
 * One process per data directory. The lock is a file created exclusively, holding the owner's
 * pid. A lock left by a process that no longer exists (killed with SIGKILL) is taken over; a
 * live owner makes the second process fail at once, naming the owner's pid.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from './errors.js';

export const lockFileName = 'LOCK';

export interface DirLock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function lockDataDir(dir: string): Promise<DirLock> {
  const path = join(dir, lockFileName);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.sync();
      await handle.close();
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
      throw new StorageError('DataDirLocked', `data directory ${dir} is in use by process ${holder}; stop that process first, or give this one another data directory`);
    }
    // The holder is gone (it crashed): its lock is stale.
    await rm(path, { force: true });
  }
  throw new StorageError('DataDirLocked', `could not lock data directory ${dir}: another process keeps taking ${path}`);
}
