/**
 * The replicated workload registry: the nodes that may run jobs (servers and agents) with their
 * resources, labels and scheduling flags; the jobs; and their allocations (one copy of a job
 * placed on one node). Decisions arrive as commands: the leader's scheduler places and stops
 * allocations and marks nodes down; the node running an allocation reports its status.
 * Applying is deterministic, and heartbeats stay out of the log: only a node's changes do.
 *
 * An allocation is never moved: replacing one means stopping it and placing a new one, so at
 * any moment each running process belongs to exactly one allocation the log knows about.
 */
import { z } from 'zod';
import { kvFailure, type KvFailure } from './types.js';

export type RestartPolicy = 'always' | 'on-failure' | 'never';
/**
 * What a node does with a job when it loses contact with the leader (seed 003): `stop` (fence
 * itself: stop the job before its watchdog timeout), `freeze` (keep it running, start nothing
 * new; the cluster replaces it only once the node is fenced by a device or confirmed dead), or
 * `ignore` (keep it running; the cluster replaces it at once: for jobs that may run twice).
 */
export type NoQuorumPolicy = 'stop' | 'freeze' | 'ignore';
export type RoleConstraint = 'any' | 'server' | 'worker';

export type HealthCheck =
  | { readonly kind: 'http'; readonly port: string; readonly path: string; readonly intervalMs: number; readonly timeoutMs: number }
  | { readonly kind: 'command'; readonly command: readonly string[]; readonly intervalMs: number; readonly timeoutMs: number };

/** A job as submitted (workload/job-spec.ts parses the files). */
export interface JobSpec {
  readonly name: string;
  readonly count: number;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly workdir: string | null;
  readonly ports: readonly string[];
  readonly stopGraceMs: number;
  readonly resources: { readonly memoryMb: number; readonly cpu: number };
  readonly restart: { readonly policy: RestartPolicy; readonly attempts: number; readonly delayMs: number; readonly windowMs: number };
  readonly constraints: { readonly role: RoleConstraint; readonly labels: Readonly<Record<string, string>> };
  readonly health: HealthCheck | null;
  /** null: the cluster's default (`no_quorum_policy` in the fencing setup). */
  readonly noQuorumPolicy: NoQuorumPolicy | null;
}

export type NodeRole = 'server' | 'worker';

export interface WorkloadNode {
  readonly id: string;
  readonly role: NodeRole;
  /** The address jobs on this node are reached at (the node's advertise address). */
  readonly address: string;
  /** host:port of the node's API, which serves its allocations' logs. */
  readonly apiAddress: string;
  /**
   * The node stops its jobs when the leader has not acknowledged a heartbeat for this long;
   * the leader declares it down (and replaces its jobs) only after this plus a margin.
   */
  readonly watchdogTimeoutMs: number;
  readonly labels: Readonly<Record<string, string>>;
  /** What the node offers to jobs. */
  readonly memoryMb: number;
  readonly cpu: number;
  /** False: no new placements (`node eligibility --disable`). */
  readonly eligible: boolean;
  /** True: its allocations are moved away one at a time (`node drain`). */
  readonly draining: boolean;
  /**
   * 'lost': its heartbeats stopped and the leader is fencing it; what it ran still counts as
   * running (nothing is replaced yet). 'down': fenced; what it ran is lost and replaced.
   */
  readonly status: 'ready' | 'lost' | 'down';
}

export interface Job {
  readonly spec: JobSpec;
  /** 1 for the first submission; each changed submission adds one. */
  readonly version: number;
  readonly stopped: boolean;
}

/** pending: placed, not started yet; failed/complete: ended (by exit code); lost: its node went down. */
export type AllocationStatus = 'pending' | 'running' | 'failed' | 'complete' | 'lost';

export interface Allocation {
  readonly id: string;
  readonly job: string;
  readonly version: number;
  /** Which of the job's `count` copies this is (0-based). */
  readonly index: number;
  readonly node: string;
  /** Ports by name, chosen by the scheduler from the node's free ones. */
  readonly ports: Readonly<Record<string, number>>;
  /** Reserved on the node while the allocation may be running (the spec's at placement). */
  readonly memoryMb: number;
  readonly cpu: number;
  readonly desired: 'run' | 'stop';
  readonly status: AllocationStatus;
  readonly restarts: number;
  readonly exitCode: number | null;
  readonly message: string;
  /** Order of placement: older allocations are pruned first. */
  readonly seq: number;
}

export type Placement = Pick<Allocation, 'id' | 'job' | 'version' | 'index' | 'node' | 'ports' | 'memoryMb' | 'cpu'>;

export type WorkloadCommand =
  | { readonly op: 'nodeRegister'; readonly node: Omit<WorkloadNode, 'eligible' | 'draining' | 'status'> }
  | { readonly op: 'nodeStatus'; readonly id: string; readonly status: WorkloadNode['status'] }
  | { readonly op: 'allocsLost'; readonly ids: readonly string[]; readonly message: string }
  | { readonly op: 'nodeFlags'; readonly id: string; readonly eligible?: boolean | undefined; readonly draining?: boolean | undefined }
  | { readonly op: 'jobPut'; readonly spec: JobSpec }
  | { readonly op: 'jobStop'; readonly name: string }
  | { readonly op: 'plan'; readonly place: readonly Placement[]; readonly stop: readonly string[] }
  | { readonly op: 'allocStatus'; readonly id: string; readonly status: AllocationStatus; readonly restarts: number; readonly exitCode: number | null; readonly message: string };

export interface WorkloadResponse {
  readonly ok: true;
  readonly kind: WorkloadCommand['op'];
  /** jobPut: the job's version after the command (unchanged when the spec was the same). */
  readonly version?: number;
}

export interface WorkloadState {
  readonly nodes: readonly WorkloadNode[];
  readonly jobs: readonly Job[];
  readonly allocations: readonly Allocation[];
  readonly seq: number;
}

/** Ended allocations kept per job (for `job status` and `job logs`); older ones are dropped. */
export const endedAllocationsPerJobMax = 10;

export function isEnded(allocation: { readonly status: AllocationStatus }): boolean {
  return allocation.status === 'failed' || allocation.status === 'complete' || allocation.status === 'lost';
}

const byId = <T extends { readonly id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class WorkloadRegistry {
  private readonly nodeMap = new Map<string, WorkloadNode>();
  private readonly jobMap = new Map<string, Job>();
  private readonly allocationMap = new Map<string, Allocation>();
  private seq = 0;

  node(id: string): WorkloadNode | undefined {
    return this.nodeMap.get(id);
  }

  nodes(): WorkloadNode[] {
    return [...this.nodeMap.values()].sort(byId);
  }

  job(name: string): Job | undefined {
    return this.jobMap.get(name);
  }

  jobs(): Job[] {
    return [...this.jobMap.values()].sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1));
  }

  allocation(id: string): Allocation | undefined {
    return this.allocationMap.get(id);
  }

  /** In placement order. */
  allocations(): Allocation[] {
    return [...this.allocationMap.values()].sort((a, b) => a.seq - b.seq);
  }

  /** One node's allocations, in placement order (every heartbeat asks: only these few are sorted). */
  allocationsOn(node: string): Allocation[] {
    return [...this.allocationMap.values()].filter((a) => a.node === node).sort((a, b) => a.seq - b.seq);
  }

  apply(command: WorkloadCommand): WorkloadResponse | KvFailure {
    switch (command.op) {
      case 'nodeRegister': {
        const known = this.nodeMap.get(command.node.id);
        this.nodeMap.set(command.node.id, { ...command.node, eligible: known?.eligible ?? true, draining: known?.draining ?? false, status: 'ready' });
        return { ok: true, kind: command.op };
      }
      case 'nodeStatus': {
        const node = this.nodeMap.get(command.id);
        if (node === undefined) return kvFailure('not_found', `no node ${command.id} is registered to run jobs`);
        this.nodeMap.set(command.id, { ...node, status: command.status });
        return { ok: true, kind: command.op };
      }
      case 'allocsLost':
        return this.markLost(command.ids, command.message);
      case 'nodeFlags': {
        const node = this.nodeMap.get(command.id);
        if (node === undefined) return kvFailure('not_found', `no node ${command.id} is registered to run jobs`);
        this.nodeMap.set(command.id, { ...node, eligible: command.eligible ?? node.eligible, draining: command.draining ?? node.draining });
        return { ok: true, kind: command.op };
      }
      case 'jobPut':
        return this.putJob(command.spec);
      case 'jobStop': {
        const job = this.jobMap.get(command.name);
        if (job === undefined) return kvFailure('not_found', `there is no job ${command.name} (see \`quorate job list\`)`);
        this.jobMap.set(command.name, { ...job, stopped: true });
        return { ok: true, kind: command.op };
      }
      case 'plan':
        return this.applyPlan(command.place, command.stop);
      case 'allocStatus':
        return this.setAllocationStatus(command);
    }
  }

  state(): WorkloadState {
    return { nodes: this.nodes(), jobs: this.jobs(), allocations: this.allocations(), seq: this.seq };
  }

  replace(state: WorkloadState): void {
    this.nodeMap.clear();
    this.jobMap.clear();
    this.allocationMap.clear();
    for (const node of state.nodes) this.nodeMap.set(node.id, node);
    for (const job of state.jobs) this.jobMap.set(job.spec.name, job);
    for (const allocation of state.allocations) this.allocationMap.set(allocation.id, allocation);
    this.seq = state.seq;
  }

  /** The cluster counts these allocations as ended (their node was fenced, or they may run twice). */
  private markLost(ids: readonly string[], message: string): WorkloadResponse | KvFailure {
    for (const id of ids) if (!this.allocationMap.has(id)) return kvFailure('not_found', `no allocation ${id}`);
    for (const id of ids) {
      const allocation = this.allocationMap.get(id);
      if (allocation !== undefined && !isEnded(allocation)) this.allocationMap.set(id, { ...allocation, status: 'lost', message });
    }
    return { ok: true, kind: 'allocsLost' };
  }

  private putJob(spec: JobSpec): WorkloadResponse {
    const known = this.jobMap.get(spec.name);
    const same = known !== undefined && JSON.stringify(known.spec) === JSON.stringify(spec);
    const version = known === undefined ? 1 : same ? known.version : known.version + 1;
    this.jobMap.set(spec.name, { spec, version, stopped: false });
    return { ok: true, kind: 'jobPut', version };
  }

  private applyPlan(place: readonly Placement[], stop: readonly string[]): WorkloadResponse | KvFailure {
    // Checked whole before anything changes: a plan made on a stale view is refused, and the
    // leader plans again from the current state.
    for (const p of place) {
      if (this.allocationMap.has(p.id)) return kvFailure('invalid_argument', `allocation ${p.id} exists already`);
      if (this.nodeMap.get(p.node)?.status !== 'ready') return kvFailure('invalid_argument', `node ${p.node} is not ready`);
      if (this.jobMap.get(p.job)?.version !== p.version) return kvFailure('invalid_argument', `job ${p.job} is not at version ${p.version}`);
    }
    for (const id of stop) if (!this.allocationMap.has(id)) return kvFailure('not_found', `no allocation ${id}`);
    for (const id of stop) {
      const allocation = this.allocationMap.get(id);
      if (allocation !== undefined) this.allocationMap.set(id, { ...allocation, desired: 'stop' });
    }
    for (const p of place) {
      this.allocationMap.set(p.id, { ...p, desired: 'run', status: 'pending', restarts: 0, exitCode: null, message: '', seq: ++this.seq });
    }
    this.pruneEnded();
    return { ok: true, kind: 'plan' };
  }

  private setAllocationStatus(command: Extract<WorkloadCommand, { op: 'allocStatus' }>): WorkloadResponse | KvFailure {
    const allocation = this.allocationMap.get(command.id);
    if (allocation === undefined) return kvFailure('not_found', `no allocation ${command.id}`);
    // A lost allocation stays lost: its replacement may run already, and a late report from the
    // node must not make the cluster count it twice.
    if (allocation.status === 'lost') return { ok: true, kind: command.op };
    this.allocationMap.set(command.id, { ...allocation, status: command.status, restarts: command.restarts, exitCode: command.exitCode, message: command.message });
    return { ok: true, kind: command.op };
  }

  /** Keeps the newest endedAllocationsPerJobMax ended allocations of each job that are also meant to stop. */
  private pruneEnded(): void {
    const ended = new Map<string, Allocation[]>();
    for (const allocation of this.allocations()) {
      if (!isEnded(allocation) || allocation.desired !== 'stop') continue;
      const list = ended.get(allocation.job) ?? [];
      list.push(allocation);
      ended.set(allocation.job, list);
    }
    for (const list of ended.values()) for (const old of list.slice(0, Math.max(0, list.length - endedAllocationsPerJobMax))) this.allocationMap.delete(old.id);
  }
}

const id = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/);
const count = z.number().int().nonnegative();
const stringMap = z.record(z.string(), z.string());
const healthSchema = z.union([
  z.object({ kind: z.literal('http'), port: z.string(), path: z.string(), intervalMs: count, timeoutMs: count }).strict(),
  z.object({ kind: z.literal('command'), command: z.array(z.string()).min(1), intervalMs: count, timeoutMs: count }).strict(),
]);
const jobSpecSchema = z
  .object({
    name: id,
    count: count.min(1),
    command: z.string().min(1),
    args: z.array(z.string()),
    env: stringMap,
    workdir: z.string().nullable(),
    ports: z.array(z.string()),
    stopGraceMs: count,
    resources: z.object({ memoryMb: count, cpu: z.number().nonnegative() }).strict(),
    restart: z.object({ policy: z.enum(['always', 'on-failure', 'never']), attempts: count, delayMs: count, windowMs: count }).strict(),
    constraints: z.object({ role: z.enum(['any', 'server', 'worker']), labels: stringMap }).strict(),
    health: healthSchema.nullable(),
    noQuorumPolicy: z.enum(['stop', 'freeze', 'ignore']).nullable(),
  })
  .strict();
const placementSchema = z.object({ id, job: id, version: count, index: count, node: id, ports: z.record(z.string(), count), memoryMb: count, cpu: z.number().nonnegative() }).strict();

/** A node as it describes itself (an agent's heartbeat, nodeRegister). */
export const nodeDescriptionSchema = z
  .object({
    id,
    role: z.enum(['server', 'worker']),
    address: z.string().min(1).max(256),
    apiAddress: z.string().min(1).max(256),
    watchdogTimeoutMs: count.min(1),
    labels: stringMap,
    memoryMb: count,
    cpu: z.number().nonnegative(),
  })
  .strict();

/** An allocation's status as its node reports it (an agent's heartbeat, allocStatus). */
export const allocStatusSchema = z
  .object({
    id,
    status: z.enum(['pending', 'running', 'failed', 'complete', 'lost']),
    restarts: count,
    exitCode: z.number().int().nullable(),
    message: z.string().max(1024),
  })
  .strict();

/** The shape every replica checks a command against before applying it; the type keeps it in step with WorkloadCommand. */
const workloadCommandSchema: z.ZodType<WorkloadCommand> = z.union([
  z
    .object({
      op: z.literal('nodeRegister'),
      node: nodeDescriptionSchema,
    })
    .strict(),
  z.object({ op: z.literal('nodeStatus'), id, status: z.enum(['ready', 'lost', 'down']) }).strict(),
  z.object({ op: z.literal('allocsLost'), ids: z.array(id).max(100_000), message: z.string().max(1024) }).strict(),
  z.object({ op: z.literal('nodeFlags'), id, eligible: z.boolean().optional(), draining: z.boolean().optional() }).strict(),
  z.object({ op: z.literal('jobPut'), spec: jobSpecSchema }).strict(),
  z.object({ op: z.literal('jobStop'), name: id }).strict(),
  z.object({ op: z.literal('plan'), place: z.array(placementSchema), stop: z.array(id) }).strict(),
  allocStatusSchema.extend({ op: z.literal('allocStatus') }).strict(),
]);

/** Why `value` is not a valid JobSpec (the first problem), or null when it is one. */
export function jobSpecProblem(value: unknown): string | null {
  const parsed = jobSpecSchema.safeParse(value);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  return `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`;
}

export function isWorkloadCommand(value: unknown): value is WorkloadCommand {
  return workloadCommandSchema.safeParse(value).success;
}
