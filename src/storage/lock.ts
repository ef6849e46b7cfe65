/**
 * One process per data directory.
 *
 * On Linux the lock is a listening socket in the abstract namespace, named after the
 * directory's real path. Binding it is atomic (EADDRINUSE for everyone else) and the kernel
 * releases it when the process ends, even by SIGKILL, so there is no stale lock to take over
 * and no race in taking one over. (A pid file alone cannot give both: reading a dead pid,
 * removing the file and creating it again lets two starting processes both win.) Abstract
 * sockets belong to a network namespace: processes in different namespaces (containers) do
 * not see each other's, which is why the pid file below is checked as well.
 *
 * The `LOCK` file holds the owner's pid, for the message another process gets, and as the whole
 * (best-effort) lock on other platforms.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { open, readFile, readlink, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from './errors.js';
import { writeFileAtomic } from './files.js';

const lockFileName = 'LOCK';

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

async function holderPid(path: string): Promise<number | null> {
  const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function locked(dir: string, pid: number | null): StorageError {
  const who = pid === null ? 'another process' : `process ${pid}`;
  return new StorageError('DataDirLocked', `data directory ${dir} is in use by ${who}; stop that process first, or give this one another data directory`);
}

/** Bind the directory's abstract socket; null where abstract sockets do not exist. */
async function bindExclusive(dir: string): Promise<Server | null> {
  if (process.platform !== 'linux') return null;
  const key = createHash('sha256').update(await realpath(dir)).digest('hex').slice(0, 40);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path: `\0quorate-data-dir-${key}` }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // The lock must not keep the process alive on its own.
  server.unref();
  return server;
}

export async function lockDataDir(dir: string): Promise<DirLock> {
  const path = join(dir, lockFileName);
  let server: Server | null;
  try {
    server = await bindExclusive(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw locked(dir, await holderPid(path));
    throw error;
  }
  const holder = await holderPid(path);
  if (holder !== null && holder !== process.pid && alive(holder) && (server === null || !(await sameNamespaceHolder(holder)))) {
    // A live owner we could not see through the socket (another network namespace, or a
    // platform without abstract sockets).
    server?.close();
    throw locked(dir, holder);
  }
  if (server === null) await createExclusive(path, holder);
  else await writeFileAtomic(path, new TextEncoder().encode(`${process.pid}\n`), dir);
  return {
    release: async () => {
      if ((await holderPid(path)) === process.pid) await rm(path, { force: true });
      server?.close();
    },
  };
}

/**
 * Whether a live pid found in LOCK is merely a recycled pid: in our network namespace the real
 * owner would hold the socket we just bound, so a live pid there is not the owner.
 */
async function sameNamespaceHolder(pid: number): Promise<boolean> {
  try {
    const [ours, theirs] = await Promise.all([readlink('/proc/self/ns/net'), readlink(`/proc/${pid}/ns/net`)]);
    return ours === theirs;
  } catch {
    return false;
  }
}

/** The pid-file-only lock of platforms without abstract sockets (best effort, documented). */
async function createExclusive(path: string, stalePid: number | null): Promise<void> {
  if (stalePid !== null) await rm(path, { force: true });
  const handle = await open(path, 'wx', 0o600).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new StorageError('DataDirLocked', `data directory lock ${path} was taken by another process just now`);
    throw error;
  });
  try {
    await handle.writeFile(`${process.pid}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
