/**
 * The fencing setup file for `quorate fence config FILE` (TOML, or JSON for `.json`):
 *
 *   no_quorum_policy = "stop"  # stop | freeze | ignore: for jobs that name none
 *   watchdog = true          # waiting out a lost node's watchdog counts as fencing it
 *   fence_delay = "6s"       # optional: how long after its last heartbeat (> every watchdog timeout)
 *   two_node = true          # optional: two voters, the survivor goes on alone after fencing its peer
 *
 *   [[level]]                # tried in order of `level`; all devices of a level must succeed
 *   level = 1
 *   [[level.device]]
 *   name = "ipmi"
 *   command = "/usr/sbin/fence_ipmi"   # run as: command ...args off <node id>
 *   args = ["--host", "10.0.0.101"]
 *   timeout = "10s"
 *   retries = 1
 */
import { z } from 'zod';
import type { FencingConfig } from '../state/index.js';
import { durationIn, durationPattern, loadDocument, validated } from './document-file.js';

const duration = z.string().regex(durationPattern, 'a number and a unit, like 500ms, 10s or 5m');

const fileSchema = z
  .object({
    no_quorum_policy: z.enum(['stop', 'freeze', 'ignore']).default('stop'),
    watchdog: z.boolean().default(true),
    fence_delay: duration.optional(),
    two_node: z.boolean().default(false),
    level: z
      .array(
        z
          .object({
            level: z.number().int().min(1).max(9),
            device: z
              .array(
                z
                  .object({
                    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "1-64 letters, digits, '.', '_' or '-'"),
                    command: z.string().min(1),
                    args: z.array(z.string()).default([]),
                    timeout: duration.default('10s'),
                    retries: z.number().int().min(0).max(10).default(0),
                  })
                  .strict(),
              )
              .min(1, 'a level needs at least one device'),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export async function loadFencingFile(path: string): Promise<FencingConfig> {
  const file = validated(fileSchema, await loadDocument(path, 'fencing file', 'invalid_config'), path, 'invalid_config');
  const ms = durationIn(path, 'invalid_config');
  return {
    noQuorumPolicy: file.no_quorum_policy,
    watchdog: file.watchdog,
    fenceDelayMs: file.fence_delay === undefined ? null : ms(file.fence_delay, 'fence_delay'),
    ...(file.two_node ? { twoNode: true } : {}),
    levels: file.level.map((level, i) => ({
      level: level.level,
      devices: level.device.map((device, j) => ({ name: device.name, command: device.command, args: device.args, timeoutMs: ms(device.timeout, `level[${i}].device[${j}].timeout`), retries: device.retries })),
    })),
  };
}
