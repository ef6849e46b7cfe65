/**
 * What an agent and the leader say to each other. The agent sends a heartbeat (to any server,
 * which forwards it to the leader) with its node's description, its free memory and the newest
 * status of each allocation it runs; the leader records the status changes through the log,
 * notes the time, and answers with the allocations the cluster wants on that node. An answer
 * means the leader heard the node: the agent's watchdog counts from the moment it sent the
 * heartbeat that was answered.
 */
import { z } from 'zod';
import { allocStatusSchema, nodeDescriptionSchema, type Allocation, type AllocationStatus, type JobSpec, type NoQuorumPolicy, type WorkloadNode } from '../state/index.js';
import { QuorateError } from '../util/errors.js';

export type NodeDescription = Omit<WorkloadNode, 'eligible' | 'draining' | 'status'>;

export interface AllocStatusReport {
  readonly id: string;
  readonly status: AllocationStatus;
  readonly restarts: number;
  readonly exitCode: number | null;
  readonly message: string;
}

/** What a worker says about its TLS identity, so the leader can renew it or carry it through a CA rotation. */
export interface TlsReport {
  /** Fingerprints of the CAs it trusts. */
  readonly trustedCas: readonly string[];
  /** The fingerprint of the trusted CA that signed its certificate; null when none did. */
  readonly certificateIssuer: string | null;
  /** ISO 8601. */
  readonly certificateNotAfter: string;
}

/** The leader's answer to a TlsReport that needs a change: trust these CAs, and present this certificate. */
export interface TlsGrant {
  /** The CAs to trust (PEM bundle). */
  readonly caPem: string;
  readonly issued?: { readonly certPem: string; readonly keyPem: string };
}

export interface HeartbeatRequest {
  readonly node: NodeDescription;
  /** Memory free on the machine now (MB): shown by `node list`, not used for placement. */
  readonly freeMemoryMb: number;
  readonly reports: readonly AllocStatusReport[];
  /** Workers only (a server's own agent shares the server's certificate). */
  readonly tls?: TlsReport | undefined;
}

/** Who may read a worker's allocation logs: the admin token and the operator and admin API tokens, by hash. */
export interface LogReaders {
  readonly adminTokenHash: string | null;
  readonly tokens: readonly { readonly id: string; readonly secretHash: string }[];
}

export interface HeartbeatResponse {
  /** The leader that answered. */
  readonly leader: string;
  /** Every allocation the cluster knows on this node (ended ones until they are pruned). */
  readonly allocations: readonly Allocation[];
  /** The current spec of each job named in `allocations` with its version. */
  readonly jobs: readonly { readonly version: number; readonly spec: JobSpec }[];
  /** Who may read logs on the node's own log route. */
  readonly logReaders: LogReaders;
  /** The cluster's policy for jobs that name none. */
  readonly noQuorumPolicy: NoQuorumPolicy;
  /** host:port of every server's API now, so an agent follows servers that joined or were replaced. */
  readonly servers: readonly string[];
  /** A renewed certificate or a CA rotation's next step for this worker. */
  readonly tls?: TlsGrant;
}

const heartbeatSchema = z
  .object({
    node: nodeDescriptionSchema,
    freeMemoryMb: z.number().nonnegative(),
    reports: z.array(allocStatusSchema).max(10_000),
    tls: z
      .object({ trustedCas: z.array(z.string().max(100)).max(8), certificateIssuer: z.string().max(100).nullable(), certificateNotAfter: z.string().max(40) })
      .strict()
      .optional(),
  })
  .strict();

/** A heartbeat as it arrives (HTTP body or forwarded RPC), checked; throws a readable message. */
/**
 * How long one heartbeat attempt may take: a hung server, or a leader cut off from the others
 * that a forwarded heartbeat still waits on, must cost well under a watchdog timeout before the
 * next attempt (to another server, or to the newly elected leader).
 */
export function heartbeatAttemptMs(watchdogTimeoutMs: number): number {
  return Math.min(3000, Math.floor(watchdogTimeoutMs / 4));
}

export function parseHeartbeat(body: unknown): HeartbeatRequest {
  const parsed = heartbeatSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new QuorateError('bad_request', `heartbeat: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
}
