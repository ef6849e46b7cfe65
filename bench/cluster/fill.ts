/**
 * The bulk data of the join and memory workloads: keys f0000001, f0000002, ... (8 bytes, like
 * the working set's), one 256-byte value each, written by as many closed-loop clients as the
 * busiest write workload has, so the target takes them as fast as it can. The fill only grows:
 * the join workload writes its share, and the memory workload adds the keys it needs on top.
 */
import type { ClusterTarget } from './target.js';
import { valueBytes, writeKeys } from './workloads.js';

const fillClients = 256;
/** Per write; more failures than this for one key mean the target is broken, not slow. */
const fillRetriesMax = 5;

/** How many fill keys hold `mib` MiB of values. */
export function keysForMib(mib: number): number {
  return Math.ceil((mib * 2 ** 20) / valueBytes);
}

export class Fill {
  private written = 0;

  constructor(private readonly target: ClusterTarget) {}

  get keys(): number {
    return this.written;
  }

  /**
   * Writes the keys missing for `keys` in all; resolves with the seconds that took (0 when none
   * were missing) and the number of failed writes sent again, which the report must show.
   */
  async growTo(keys: number): Promise<{ readonly seconds: number; readonly retries: number }> {
    if (keys <= this.written) return { seconds: 0, retries: 0 };
    const started = performance.now();
    const retries = await writeKeys(this.target, this.written + 1, keys, fillKeyName, fillClients, fillRetriesMax);
    this.written = keys;
    return { seconds: (performance.now() - started) / 1000, retries };
  }
}

function fillKeyName(n: number): string {
  return `f${String(n).padStart(7, '0')}`;
}
