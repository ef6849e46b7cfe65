/** Polling helpers for the cluster benchmark: nodes come up and elect leaders in their own time. */
import { setTimeout as sleep } from 'node:timers/promises';

/** Pause between attempts: short next to an election timeout, long next to a loopback request. */
const retryIntervalMs = 50;

/** Thrown by an attempt to stop retrying at once (a node process died, so waiting cannot help). */
export class GiveUp extends Error {}

/** Calls attempt until it resolves, or rejects naming `what` once timeoutMs has passed. */
export async function retryUntil<T>(what: string, timeoutMs: number, attempt: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      if (performance.now() >= deadline) {
        throw new Error(`${what}: not within ${timeoutMs} ms (last error: ${errorMessage(error)})`, { cause: error });
      }
    }
    await sleep(retryIntervalMs);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
