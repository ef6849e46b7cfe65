/** The production Clock: monotonic time and Node's timers. */
import type { Clock } from './interfaces.js';

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) => {
    const timer = setTimeout(callback, delayMs);
    return { cancel: () => clearTimeout(timer) };
  },
};
