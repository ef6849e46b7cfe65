/**
 * Virtual time. Every timer, message delivery and disk completion in a simulation is an event
 * in one queue ordered by (time, insertion order), so a run is a pure function of its seed.
 * Each node gets its own clock whose timers die with it when the node crashes.
 */
import type { Clock, Timer } from '../node/index.js';

interface SimEvent {
  readonly time: number;
  readonly seq: number;
  readonly run: () => void;
  cancelled: boolean;
}

/**
 * Lets pending promise reactions run before the next event, so that work an event set off (a
 * disk completion resuming the node's Ready loop, a client's callback) happens at that event's
 * virtual time. Each await lets one more level of chained reactions run; chains deeper than
 * this finish during later events instead, which shifts their timing but stays deterministic:
 * the microtask queue is FIFO and only the simulation's own code feeds it.
 */
const microtaskLevels = 12;

async function drainMicrotasks(): Promise<void> {
  for (let i = 0; i < microtaskLevels; i++) await Promise.resolve();
}

export class Scheduler {
  private time = 0;
  private seq = 0;
  private readonly heap: SimEvent[] = [];
  eventsRun = 0;

  now(): number {
    return this.time;
  }

  at(time: number, run: () => void): Timer {
    const event: SimEvent = { time: Math.max(time, this.time), seq: this.seq++, run, cancelled: false };
    this.push(event);
    return {
      cancel: () => {
        event.cancelled = true;
      },
    };
  }

  after(delayMs: number, run: () => void): Timer {
    return this.at(this.time + delayMs, run);
  }

  /** A clock for one owner (a node incarnation); `dispose` cancels all of its timers. */
  clock(): Clock & { dispose(): void } {
    const timers = new Set<Timer>();
    let disposed = false;
    return {
      now: () => this.time,
      setTimeout: (callback, delayMs) => {
        if (disposed) return { cancel: () => undefined };
        const timer = this.after(delayMs, () => {
          timers.delete(timer);
          callback();
        });
        timers.add(timer);
        return {
          cancel: () => {
            timer.cancel();
            timers.delete(timer);
          },
        };
      },
      dispose: () => {
        disposed = true;
        for (const timer of timers) timer.cancel();
        timers.clear();
      },
    };
  }

  /** Run events up to and including `until`, or until `stop` returns true after an event. */
  async runUntil(until: number, stop?: () => boolean): Promise<void> {
    for (;;) {
      const next = this.heap[0];
      if (next === undefined || next.time > until) break;
      this.pop();
      if (next.cancelled) continue;
      this.time = next.time;
      next.run();
      this.eventsRun++;
      await drainMicrotasks();
      if (stop?.() === true) return;
    }
    this.time = Math.max(this.time, until);
  }

  private push(event: SimEvent): void {
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent];
      if (p === undefined || !before(event, p)) break;
      heap[i] = p;
      heap[parent] = event;
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      const hl = heap[l];
      const hr = heap[r];
      const hs = (): SimEvent => heap[smallest] as SimEvent;
      if (hl !== undefined && before(hl, hs())) smallest = l;
      if (hr !== undefined && before(hr, hs())) smallest = r;
      if (smallest === i) return;
      heap[i] = hs();
      heap[smallest] = last;
      i = smallest;
    }
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
