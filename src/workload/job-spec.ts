/**
 * Job files (`quorate job run app.toml`): what to run, how many copies, on which nodes, with
 * what resources, how to restart it and how to tell it is healthy. TOML, or JSON for files
 * ending in .json (the same fields). Every mistake is refused with the field and the problem.
 *
 *   name = "web"                 # 1-64 letters, digits, . _ -
 *   count = 3                    # copies (allocations); spread over nodes
 *   command = "node"             # run directly, without a shell
 *   args = ["server.js"]
 *   workdir = "/srv/web"         # default: the allocation's own directory
 *   ports = ["http"]             # each copy gets a free port per name: $QUORATE_PORT_HTTP
 *   stop_grace = "10s"           # SIGTERM, then SIGKILL after this
 *   [env]
 *   GREETING = "hello"
 *   [resources]
 *   memory_mb = 128              # reserved on the node; placement never over-commits
 *   cpu = 0.5                    # cores
 *   [restart]
 *   policy = "on-failure"        # "always", "on-failure" or "never"
 *   attempts = 3                 # restarts on the same node within `window`, then the copy fails
 *   delay = "1s"
 *   window = "5m"
 *   [constraints]
 *   role = "any"                 # "any", "server" or "worker"
 *   labels = { zone = "a" }      # every label must match the node's
 *   no_quorum_policy = "freeze"                  # stop | freeze | ignore; default: the cluster's
 *   [health]
 *   http = { port = "http", path = "/health" }   # or command = ["check.sh", "arg"]
 *   interval = "5s"
 *   timeout = "2s"
 */
import { z } from 'zod';
import type { HealthCheck, JobSpec } from '../state/index.js';
import { QuorateError } from '../util/errors.js';
import { durationIn, durationPattern, loadDocument, validated } from './document-file.js';

export const jobCountMax = 1000;
const nameSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "1-64 letters, digits, '.', '_' or '-'");
const duration = z.string().regex(durationPattern, 'a number and a unit, like 500ms, 10s or 5m');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'an environment variable name');

const jobSchema = z
  .object({
    name: nameSchema,
    count: z.number().int().min(1).max(jobCountMax).default(1),
    command: z.string().min(1),
    args: z.array(z.string()).max(256).default([]),
    env: z.record(envName, z.string()).default({}),
    workdir: z.string().min(1).optional(),
    ports: z.array(z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'lower-case letters, digits and _')).max(16).default([]),
    stop_grace: duration.default('10s'),
    resources: z
      .object({ memory_mb: z.number().int().min(1).max(1_048_576).default(64), cpu: z.number().min(0.01).max(256).default(0.1) })
      .strict()
      .default({ memory_mb: 64, cpu: 0.1 }),
    restart: z
      .object({
        policy: z.enum(['always', 'on-failure', 'never']).default('on-failure'),
        attempts: z.number().int().min(0).max(1000).default(3),
        delay: duration.default('1s'),
        window: duration.default('5m'),
      })
      .strict()
      .default({ policy: 'on-failure', attempts: 3, delay: '1s', window: '5m' }),
    constraints: z
      .object({ role: z.enum(['any', 'server', 'worker']).default('any'), labels: z.record(z.string().min(1).max(64), z.string().max(256)).default({}) })
      .strict()
      .default({ role: 'any', labels: {} }),
    health: z
      .object({
        http: z.object({ port: z.string(), path: z.string().startsWith('/').default('/') }).strict().optional(),
        command: z.array(z.string()).min(1).optional(),
        interval: duration.default('5s'),
        timeout: duration.default('2s'),
      })
      .strict()
      .optional(),
    no_quorum_policy: z.enum(['stop', 'freeze', 'ignore']).optional(),
  })
  .strict();

/** Reads and validates a job file; `.json` files are JSON, anything else TOML. */
export async function loadJobSpec(path: string): Promise<JobSpec> {
  return parseJobSpec(await loadDocument(path, 'job file', 'invalid_job'), path);
}

/** Validates a parsed job document (also what the API receives); `source` names it in errors. */
export function parseJobSpec(document: unknown, source = 'job'): JobSpec {
  const job = validated(jobSchema, document, source, 'invalid_job');
  const ms = durationIn(source, 'invalid_job');
  return {
    name: job.name,
    count: job.count,
    command: job.command,
    args: job.args,
    env: job.env,
    workdir: job.workdir ?? null,
    ports: job.ports,
    stopGraceMs: ms(job.stop_grace, 'stop_grace'),
    resources: { memoryMb: job.resources.memory_mb, cpu: job.resources.cpu },
    restart: { policy: job.restart.policy, attempts: job.restart.attempts, delayMs: ms(job.restart.delay, 'restart.delay'), windowMs: ms(job.restart.window, 'restart.window') },
    constraints: { role: job.constraints.role, labels: job.constraints.labels },
    health: job.health === undefined ? null : healthCheck(job.health, job.ports, source, ms),
    noQuorumPolicy: job.no_quorum_policy ?? null,
  };
}

function healthCheck(
  health: NonNullable<z.infer<typeof jobSchema>['health']>,
  ports: readonly string[],
  source: string,
  ms: (text: string, field: string) => number,
): HealthCheck {
  const timing = { intervalMs: ms(health.interval, 'health.interval'), timeoutMs: ms(health.timeout, 'health.timeout') };
  if ((health.http === undefined) === (health.command === undefined)) {
    throw new QuorateError('invalid_job', `${source}: health: give exactly one of http = { port, path } or command = [...]`);
  }
  if (health.http !== undefined) {
    if (!ports.includes(health.http.port)) throw new QuorateError('invalid_job', `${source}: health.http.port: "${health.http.port}" is not one of ports = [${ports.map((p) => `"${p}"`).join(', ')}]`);
    return { kind: 'http', port: health.http.port, path: health.http.path, ...timing };
  }
  return { kind: 'command', command: health.command ?? [], ...timing };
}
