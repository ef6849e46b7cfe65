/**
 * The CPU time another process has used, user plus system, from /proc/<pid>/stat (Linux, like
 * the rest of the benchmark's loopback setup). Sampled before and after a window, the difference
 * over the window's length is the share of one core the process used.
 */
import { readFile } from 'node:fs/promises';

/** USER_HZ, the unit of the utime and stime fields; 100 on every Linux architecture Node runs on. */
const clockTicksPerSecond = 100;

export async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces, so count from its end:
  // fields 14 and 15 (utime, stime) are the 12th and 13th after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  if (!Number.isFinite(ticks)) throw new Error(`unexpected /proc/${pid}/stat: ${stat.slice(0, 200)}`);
  return ticks / clockTicksPerSecond;
}
