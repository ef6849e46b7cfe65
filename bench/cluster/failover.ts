/**
 * Failover under load: an open-loop writer sends a write every writeIntervalMs to the nodes that
 * will survive, whether or not earlier writes have been answered (a closed loop would stall on
 * the first stuck request and hide how soon the cluster could serve again). The leader is then
 * SIGKILLed; the gap is the time from the kill to the first acknowledgement of a write issued
 * after it. The killed node is restarted and every node must serve a linearizable read before
 * the next round, so each round starts from a whole, caught-up cluster.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Prng } from '../../src/util/prng.js';
import type { ClusterTarget } from './target.js';
import { retryUntil } from './wait.js';
import { keyName, randomKey, value } from './workloads.js';

const writeIntervalMs = 5;
/** Load before the kill, so that connections to the survivors are open and the rate is steady. */
const warmupMs = 500;
/** A failover slower than this is reported as a failure rather than waited out. */
const gapMsMax = 30_000;
const healthyTimeoutMs = 60_000;

/** Runs `rounds` failovers and returns their gaps in milliseconds, in order. */
export async function measureFailovers(target: ClusterTarget, rounds: number, prng: Prng, onGap: (gapMs: number) => void): Promise<number[]> {
  const gaps: number[] = [];
  for (let round = 0; round < rounds; round++) {
    await waitHealthy(target);
    const gap = await failoverOnce(target, prng);
    gaps.push(gap);
    onGap(gap);
  }
  await waitHealthy(target);
  return gaps;
}

async function failoverOnce(target: ClusterTarget, prng: Prng): Promise<number> {
  const leader = await retryUntil('a leader is known', healthyTimeoutMs, () => target.leaderIndex());
  const survivors = target.endpoints.map((_, i) => i).filter((i) => i !== leader);
  const writer = new OpenLoopWriter(target, survivors, prng);
  try {
    await sleep(warmupMs);
    // Listen before killing: an acknowledgement may arrive while kill() waits for the exit.
    const gap = writer.firstAckIssuedAfter(performance.now());
    await target.kill(leader);
    return await gap;
  } finally {
    await writer.stop();
    await target.restart(leader);
  }
}

/** Every node answers a linearizable read through its own endpoint, so it has a leader and has caught up. */
async function waitHealthy(target: ClusterTarget): Promise<void> {
  await Promise.all(
    target.endpoints.map((_, i) => retryUntil(`node ${i} serves a linearizable read`, healthyTimeoutMs, () => target.get(i, keyName(1), 'linearizable'))),
  );
}

class OpenLoopWriter {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timer: NodeJS.Timeout;
  private issued = 0;
  private killedAt = Infinity;
  private onFirstAck: ((gapMs: number) => void) | undefined;
  private gapTimeout: NodeJS.Timeout | undefined;

  constructor(
    private readonly target: ClusterTarget,
    private readonly endpoints: readonly number[],
    private readonly prng: Prng,
  ) {
    this.timer = setInterval(() => this.issue(), writeIntervalMs);
  }

  /** Resolves with the gap once a write issued at or after killedAt is acknowledged. */
  firstAckIssuedAfter(killedAt: number): Promise<number> {
    this.killedAt = killedAt;
    return new Promise((resolve, reject) => {
      this.gapTimeout = setTimeout(() => reject(new Error(`no write acknowledged within ${gapMsMax} ms of killing the leader`)), gapMsMax);
      this.onFirstAck = resolve;
    });
  }

  /** Stops issuing and waits for every outstanding write to be answered or to time out. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.gapTimeout);
    this.onFirstAck = undefined;
    await Promise.all(this.inFlight);
  }

  private issue(): void {
    const endpoint = this.endpoints[this.issued++ % this.endpoints.length] ?? 0;
    const issuedAt = performance.now();
    // Failed writes are expected while there is no leader; only acknowledgements matter here.
    const write = this.target.put(endpoint, randomKey(this.prng), value).then(
      () => {
        const onFirstAck = this.onFirstAck;
        if (issuedAt < this.killedAt || onFirstAck === undefined) return;
        this.onFirstAck = undefined;
        clearTimeout(this.gapTimeout);
        onFirstAck(performance.now() - this.killedAt);
      },
      () => undefined,
    );
    this.inFlight.add(write);
    void write.finally(() => this.inFlight.delete(write));
  }
}
