/**
 * The replicated fencing configuration and history (seed 003, Pacemaker's fencing topology).
 *
 * Fence devices are commands run by the leader against a lost node, grouped in levels tried in
 * order (level 1 e.g. IPMI, level 2 e.g. two PDUs): a level succeeds when every device in it
 * does. Watchdog fencing is the indirect kind: a lost node has stopped its jobs itself once its
 * watchdog timeout has passed (workload/fence.ts), so waiting `fenceDelayMs` after its last
 * heartbeat counts as fencing it, unless the operator turned that off (`watchdog = false`, like
 * Pacemaker without stonith-watchdog-timeout), when only a device's success does.
 *
 * The history keeps the newest `fenceHistoryMax` attempts for `quorate fence history`.
 */
import { z } from 'zod';
import type { NoQuorumPolicy } from './workload.js';

export interface FenceDevice {
  readonly name: string;
  /** Run as `command ...args <action> <node id>` with QUORATE_FENCE_* in its environment; exit 0 is success. */
  readonly command: string;
  readonly args: readonly string[];
  readonly timeoutMs: number;
  /** Further attempts after a failure, before the device counts as failed. */
  readonly retries: number;
}

export interface FenceLevel {
  readonly level: number;
  readonly devices: readonly FenceDevice[];
}

export interface FencingConfig {
  readonly levels: readonly FenceLevel[];
  /** Whether waiting out a lost node's watchdog counts as fencing it. */
  readonly watchdog: boolean;
  /**
   * How long after a lost node's last heartbeat watchdog fencing counts it fenced; null: its own
   * watchdog timeout + 1 s. Must exceed every node's watchdog timeout.
   */
  readonly fenceDelayMs: number | null;
  /** What nodes do with jobs that name no policy when they lose contact with the leader. */
  readonly noQuorumPolicy: NoQuorumPolicy;
  /**
   * Seed 003 option 1 (corosync's two_node): two voters, and the survivor of the pair goes on
   * alone once a fence device has turned its peer off (server/two-node.ts). Absent: false.
   */
  readonly twoNode?: boolean | undefined;
}

export const defaultFencingConfig: FencingConfig = { levels: [], watchdog: true, fenceDelayMs: null, noQuorumPolicy: 'stop' };

export type FenceMethod = 'devices' | 'watchdog' | 'manual';

export interface FenceEvent {
  readonly seq: number;
  readonly node: string;
  /** Wall-clock time on the leader that fenced (ms since the epoch), for people. */
  readonly atMs: number;
  readonly method: FenceMethod;
  readonly outcome: 'fenced' | 'failed';
  /** Level by level, device by device, what happened. */
  readonly detail: string;
}

export const fenceHistoryMax = 100;

export type FencingCommand =
  | { readonly op: 'fencingConfigure'; readonly config: FencingConfig }
  | { readonly op: 'fenceRecord'; readonly event: Omit<FenceEvent, 'seq'> };

export interface FencingResponse {
  readonly ok: true;
  readonly kind: FencingCommand['op'];
}

export function isFencingCommand(value: unknown): value is FencingCommand {
  return fencingCommandSchema.safeParse(value).success;
}

export interface FencingState {
  readonly config: FencingConfig;
  readonly history: readonly FenceEvent[];
  readonly seq: number;
}

export class FencingRegistry {
  private configValue: FencingConfig = defaultFencingConfig;
  private historyValue: FenceEvent[] = [];
  private seq = 0;

  get config(): FencingConfig {
    return this.configValue;
  }

  /** Oldest first. */
  history(): readonly FenceEvent[] {
    return this.historyValue;
  }

  apply(command: FencingCommand): FencingResponse {
    if (command.op === 'fencingConfigure') {
      this.configValue = command.config;
    } else {
      this.historyValue.push({ ...command.event, seq: ++this.seq });
      if (this.historyValue.length > fenceHistoryMax) this.historyValue.splice(0, this.historyValue.length - fenceHistoryMax);
    }
    return { ok: true, kind: command.op };
  }

  state(): FencingState {
    return { config: this.configValue, history: this.historyValue, seq: this.seq };
  }

  replace(state: FencingState | undefined): void {
    this.configValue = state?.config ?? defaultFencingConfig;
    this.historyValue = [...(state?.history ?? [])];
    this.seq = state?.seq ?? 0;
  }
}

const name = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "1-64 letters, digits, '.', '_' or '-'");
const deviceSchema = z
  .object({
    name,
    command: z.string().min(1).max(4096),
    args: z.array(z.string().max(4096)).max(64),
    timeoutMs: z.number().int().min(100).max(600_000),
    retries: z.number().int().min(0).max(10),
  })
  .strict();

export const fencingConfigSchema = z
  .object({
    levels: z
      .array(z.object({ level: z.number().int().min(1).max(9), devices: z.array(deviceSchema).min(1).max(8) }).strict())
      .max(9)
      .refine((levels) => new Set(levels.map((l) => l.level)).size === levels.length, 'each level number once'),
    watchdog: z.boolean(),
    fenceDelayMs: z.number().int().min(1).max(3_600_000).nullable(),
    noQuorumPolicy: z.enum(['stop', 'freeze', 'ignore']),
    twoNode: z.boolean().optional(),
  })
  .strict();

export const fencingCommandSchema: z.ZodType<FencingCommand> = z.union([
  z.object({ op: z.literal('fencingConfigure'), config: fencingConfigSchema }).strict(),
  z
    .object({
      op: z.literal('fenceRecord'),
      event: z
        .object({
          node: z.string().min(1).max(128),
          atMs: z.number().int().nonnegative(),
          method: z.enum(['devices', 'watchdog', 'manual']),
          outcome: z.enum(['fenced', 'failed']),
          detail: z.string().max(4096),
        })
        .strict(),
    })
    .strict(),
]);

/**
 * Why `config` must be refused for nodes with these watchdog timeouts, or null. Replacing a
 * node's jobs before its own watchdog has stopped them would run them twice.
 */
export function fencingConfigProblem(config: FencingConfig, watchdogTimeouts: ReadonlyMap<string, number>): string | null {
  if (config.twoNode === true && config.levels.length === 0) {
    return 'two_node = true needs fence devices (seed 003 option 1): with two voters the survivor may go on alone only once a device has turned its peer off, and a watchdog cannot tell it that. Add [[level]]s with devices (IPMI, then the PDUs), or attach an arbiter instead (quorate cluster arbiter add)';
  }
  if (config.fenceDelayMs === null) return null;
  for (const [node, watchdogMs] of watchdogTimeouts) {
    if (config.fenceDelayMs <= watchdogMs) {
      return `fence_delay (${config.fenceDelayMs} ms) must be greater than the watchdog timeout of every node, but ${node} stops its jobs only ${watchdogMs} ms after losing contact: its jobs would be started elsewhere while they still run there. Raise fence_delay or lower that node's watchdog timeout`;
    }
  }
  return null;
}
