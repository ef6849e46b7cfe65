/**
 * What an agent and the leader say to each other. The agent sends a heartbeat (to any server,
 * which forwards it to the leader) with its node's description, its free memory and the newest
 * status of each allocation it runs; the leader records the status changes through the log,
 * notes the time, and answers with the allocations the cluster wants on that node. An answer
 * means the leader heard the node: the agent's watchdog counts from the moment it sent the
 * heartbeat that was answered.
 */
import { z } from 'zod';
import type { Allocation, AllocationStatus, JobSpec, WorkloadNode } from '../state/index.js';
import { QuorateError } from '../util/errors.js';

export type NodeDescription = Omit<WorkloadNode, 'eligible' | 'draining' | 'status'>;

export interface AllocStatusReport {
  readonly id: string;
  readonly status: AllocationStatus;
  readonly restarts: number;
  readonly exitCode: number | null;
  readonly message: string;
}

export interface HeartbeatRequest {
  readonly node: NodeDescription;
  /** Memory free on the machine now (MB): shown by `node list`, not used for placement. */
  readonly freeMemoryMb: number;
  readonly reports: readonly AllocStatusReport[];
}

export interface HeartbeatResponse {
  /** The leader that answered. */
  readonly leader: string;
  /** Every allocation the cluster knows on this node (ended ones until they are pruned). */
  readonly allocations: readonly Allocation[];
  /** The current spec of each job named in `allocations` with its version. */
  readonly jobs: readonly { readonly version: number; readonly spec: JobSpec }[];
  /** Hash of the admin token, so the node can check it on its log route. */
  readonly adminTokenHash: string | null;
}

const id = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/);
const count = z.number().int().nonnegative();

const heartbeatSchema = z
  .object({
    node: z
      .object({
        id,
        role: z.enum(['server', 'worker']),
        address: z.string().min(1).max(256),
        apiAddress: z.string().min(1).max(256),
        watchdogTimeoutMs: count.min(1),
        labels: z.record(z.string().max(256), z.string().max(256)),
        memoryMb: count,
        cpu: z.number().nonnegative(),
      })
      .strict(),
    freeMemoryMb: z.number().nonnegative(),
    reports: z
      .array(
        z
          .object({
            id,
            status: z.enum(['pending', 'running', 'failed', 'complete', 'lost']),
            restarts: count,
            exitCode: z.number().int().nullable(),
            message: z.string().max(1024),
          })
          .strict(),
      )
      .max(10_000),
  })
  .strict();

/** A heartbeat as it arrives (HTTP body or forwarded RPC), checked; throws a readable message. */
export function parseHeartbeat(body: unknown): HeartbeatRequest {
  const parsed = heartbeatSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new QuorateError('bad_request', `heartbeat: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
}
