/**
 * Resident memory of the nodes as the kernel counts it (VmRSS in /proc/<pid>/status): what a
 * node costs its machine, whatever its runtime believes it holds, and the same measure for a
 * Go process and a Node.js one.
 */
import { readFile } from 'node:fs/promises';
import type { ClusterTarget } from './target.js';

/** Each node's RSS in MiB, in node order. */
export async function nodeRssMib(target: ClusterTarget): Promise<number[]> {
  return Promise.all((await target.pids()).map(rssMib));
}

async function rssMib(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kib) / 1024;
}
