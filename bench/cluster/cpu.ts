/**
 * CPU time spent per request, by the nodes together and by the client. On a machine where the
 * client and three nodes share two cores, throughput is what the cores can do divided by the CPU
 * all four processes spend per request; these figures say where it goes, for a Go process and a
 * Node.js one alike (user + system time of every thread, as the kernel counts it).
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { ClusterTarget } from './target.js';

/** Kernel clock ticks per second, the unit of /proc/<pid>/stat's times (100 on Linux almost everywhere). */
const ticksPerSecond = ((): number => {
  const answer = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const ticks = Number(answer.stdout.trim());
  return answer.status === 0 && ticks > 0 ? ticks : 100;
})();

/** CPU milliseconds used so far by the nodes (together) and by this process. */
export interface CpuReading {
  readonly nodesMs: number;
  readonly clientMs: number;
}

export async function readCpu(target: ClusterTarget): Promise<CpuReading> {
  const nodes = await Promise.all((await target.pids()).map(processCpuMs));
  const own = process.cpuUsage();
  return { nodesMs: nodes.reduce((sum, ms) => sum + ms, 0), clientMs: (own.user + own.system) / 1000 };
}

/** Microseconds of CPU per request between two readings. */
export function cpuPerRequestUs(before: CpuReading, after: CpuReading, requests: number): { readonly nodesUs: number; readonly clientUs: number } {
  const per = (ms: number): number => (requests === 0 ? NaN : (ms * 1000) / requests);
  return { nodesUs: per(after.nodesMs - before.nodesMs), clientUs: per(after.clientMs - before.clientMs) };
}

async function processCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5), utime and stime, are the 12th and 13th after the name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`unreadable /proc/${pid}/stat`);
  return (ticks * 1000) / ticksPerSecond;
}
