/**
 * Builds a node's agent from its settings: the process driver with the node's fence, the
 * allocation directory and the node's description (its memory and cpus as the machine reports
 * them unless configured). Used by servers (which run jobs too) and by `quorate agent`.
 */
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../util/log.js';
import { Agent, type AgentLink } from './agent.js';
import { fenceTimings } from './fence.js';
import { defaultProcessDriverOptions, ProcessDriver } from './process-driver.js';
import type { NodeDescription } from './protocol.js';
import { WatchdogDevice } from './watchdog-device.js';
import { QuorateError } from '../util/errors.js';

export interface StartAgentOptions {
  readonly id: string;
  readonly role: NodeDescription['role'];
  /** Where the node's jobs are reached (its advertise address). */
  readonly address: string;
  readonly apiAddress: string;
  readonly watchdogTimeoutMs: number;
  readonly labels?: Readonly<Record<string, string>>;
  /** Offered to jobs; default: the machine's total memory and cpu count. */
  readonly memoryMb?: number;
  readonly cpu?: number;
  /** Holds `alloc/` (records and logs) and the `fence` file. */
  readonly dir: string;
  readonly link: AgentLink;
  readonly heartbeatMs?: number;
  /** A hardware watchdog device to feed while the node's fence holds, e.g. /dev/watchdog. */
  readonly watchdogDevice?: string;
  readonly log: Logger;
}

export const defaultAgentHeartbeatMs = 1000;

export async function startAgent(options: StartAgentOptions): Promise<Agent> {
  const root = join(options.dir, 'alloc');
  const fencePath = join(options.dir, 'fence');
  const timings = fenceTimings(options.watchdogTimeoutMs);
  options.link.bindTo?.(options.address);
  return Agent.start({
    node: {
      id: options.id,
      role: options.role,
      address: options.address,
      apiAddress: options.apiAddress,
      watchdogTimeoutMs: options.watchdogTimeoutMs,
      labels: options.labels ?? {},
      memoryMb: options.memoryMb ?? Math.floor(totalmem() / 2 ** 20),
      cpu: options.cpu ?? cpus().length,
    },
    root,
    fencePath,
    driver: new ProcessDriver({ ...defaultProcessDriverOptions, root, fence: { path: fencePath, termLeadMs: timings.termLeadMs, killLeadMs: timings.killLeadMs, pollMs: timings.pollMs } }),
    link: options.link,
    heartbeatMs: options.heartbeatMs ?? defaultAgentHeartbeatMs,
    stopLeadMs: timings.stopLeadMs,
    watchdogDevice: options.watchdogDevice === undefined ? null : await openDevice(options.watchdogDevice),
    log: options.log,
  });
}

async function openDevice(path: string): Promise<WatchdogDevice> {
  try {
    return await WatchdogDevice.open(path);
  } catch (error) {
    throw new QuorateError('invalid_config', `cannot open the watchdog device ${path}: ${(error as Error).message} (load a driver, e.g. \`modprobe softdog\`, or leave the device out)`);
  }
}
