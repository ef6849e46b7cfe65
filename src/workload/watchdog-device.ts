/**
 * A hardware watchdog device (Linux's /dev/watchdog, or softdog): once opened it resets the
 * machine unless something is written to it within its timeout. The agent feeds it only while
 * the node's fence holds (a leader has answered lately), so a node that is cut off, or hung so
 * badly that the agent and the tasks' supervisors no longer run, is reset by the hardware
 * (seed 003's indirect fencing; sbd's watchdog). A clean stop writes the magic 'V' before closing,
 * which disarms the device instead of resetting the machine.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** Feeding more often than this buys nothing: device timeouts are seconds to minutes. */
const feedEveryMs = 1000;
const keepalive = Uint8Array.of(0x2e); // '.'
const magicClose = Uint8Array.of(0x56); // 'V'

export class WatchdogDevice {
  private lastFed = -Infinity;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async open(path: string): Promise<WatchdogDevice> {
    return new WatchdogDevice(path, await open(path, 'a'));
  }

  /** Feed it, at most once a second; `now` is monotonic milliseconds. */
  async feed(now: number): Promise<void> {
    if (now - this.lastFed < feedEveryMs) return;
    this.lastFed = now;
    await this.handle.write(keepalive);
  }

  /** Disarm (magic close) and close: the agent stops cleanly. */
  async disarm(): Promise<void> {
    await this.handle.write(magicClose);
    await this.handle.close();
  }
}
