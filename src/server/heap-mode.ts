/**
 * How a server process asks V8 to trade speed for memory. With a small heap V8's defaults win:
 * they let the heap grow well past what is live, which keeps collections rare. With a large
 * one that slack is hundreds of megabytes: at a million 256-byte keys a node held 440 MB of
 * live objects in a 780 MB heap (950 MB RSS). Past `largeHeapBytes` of live objects the server
 * turns on V8's --optimize-for-size (smaller heap growth, compaction of fragmented pages,
 * smaller young generation), which brought that node to 480 MB of heap and 650 MB RSS, at the
 * cost of throughput that the bench measured at 5 to 15% on small states. Below `smallHeapBytes`
 * it is turned off again; the gap keeps it from flapping.
 *
 * V8 reads this flag at each collection, so setting it at run time takes effect. Only the
 * `quorate server` process does this: an application embedding the library keeps its own flags.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import type { Logger } from '../util/log.js';

const largeHeapBytes = 256 * 1024 * 1024;
const smallHeapBytes = 192 * 1024 * 1024;
const checkIntervalMs = 5_000;

export interface HeapModeOptions {
  /** Bytes of live heap; V8's count by default (tests give their own). */
  readonly heapUsed?: () => number;
  readonly checkIntervalMs?: number;
}

/** Watch the heap and switch the mode as it crosses the thresholds; returns a stop function. */
export function watchHeapMode(log: Logger, options: HeapModeOptions = {}): () => void {
  const heapUsed = options.heapUsed ?? (() => getHeapStatistics().used_heap_size);
  let optimizingForSize = false;
  const timer = setInterval(() => {
    const used = heapUsed();
    const wanted = optimizingForSize ? used > smallHeapBytes : used > largeHeapBytes;
    if (wanted === optimizingForSize) return;
    optimizingForSize = wanted;
    setFlagsFromString(wanted ? '--optimize-for-size' : '--no-optimize-for-size');
    log.log('info', wanted ? 'large heap: V8 now favours memory over speed' : 'heap small again: V8 favours speed', { heapUsedMiB: Math.round(used / 2 ** 20) });
  }, options.checkIntervalMs ?? checkIntervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (optimizingForSize) setFlagsFromString('--no-optimize-for-size');
  };
}
