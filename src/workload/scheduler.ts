/**
 * The scheduler: a pure function from the workload registry to a plan (allocations to place,
 * allocations to stop) that the leader proposes as one log entry. It runs again after every
 * change, so each call only takes the next safe step.
 *
 * The rule that keeps a job from ever running more than `count` copies: each copy (index) has
 * at most one allocation that may be running, and a replacement is placed only once the
 * allocation before it has ended (reported stopped by its node, or lost: its node went down,
 * which the leader declares only after the node's watchdog has stopped everything on it).
 * Updates to a new version and drains therefore stop one copy, wait for it to end, and place
 * its successor: never fewer than count - 1 copies serve, and one job changes one copy at a time.
 *
 * Placement: the nodes that are ready, eligible, not draining, of the wanted role, with every
 * wanted label and enough unreserved memory and cpu; among them the one running the fewest
 * copies of this job (spread), then the most free memory, then the smallest id.
 */
import type { Allocation, Job, Placement, WorkloadNode } from '../state/index.js';
import { isEnded } from '../state/index.js';

export interface SchedulerInput {
  readonly nodes: readonly WorkloadNode[];
  readonly jobs: readonly Job[];
  readonly allocations: readonly Allocation[];
  /** A fresh unique suffix for an allocation id (the caller's randomness keeps this pure). */
  readonly newId: () => string;
}

export interface Blocked {
  readonly job: string;
  readonly index: number;
  readonly reason: string;
}

export interface Plan {
  readonly place: Placement[];
  readonly stop: string[];
  /** Copies that could not be placed now, and why (shown by `job status`). */
  readonly blocked: Blocked[];
}

/** Ports handed to allocations, per node, by name ($QUORATE_PORT_<NAME>). */
export const portRange = { min: 20_000, max: 32_000 } as const;

export function reconcile(input: SchedulerInput): Plan {
  const plan: Plan = { place: [], stop: [], blocked: [] };
  const reserved = new Reservations(input.nodes, input.allocations);
  for (const job of input.jobs) reconcileJob(job, input, reserved, plan);
  return plan;
}

function reconcileJob(job: Job, input: SchedulerInput, reserved: Reservations, plan: Plan): void {
  const mine = input.allocations.filter((a) => a.job === job.spec.name);
  const wanted = job.stopped ? 0 : job.spec.count;
  // Everything beyond the wanted copies stops, as do allocations that ended but are still meant to run.
  for (const a of mine) if (a.desired === 'run' && (a.index >= wanted || (isEnded(a) && replaceable(job, a)))) plan.stop.push(a.id);
  if (wanted === 0) return;
  const occupied = new Map<number, Allocation[]>();
  for (const a of mine) if (!isEnded(a) && a.index < wanted) occupied.set(a.index, [...(occupied.get(a.index) ?? []), a]);
  for (let index = 0; index < wanted; index++) {
    if (occupied.has(index) || finished(job, mine, index)) continue;
    placeCopy(job, index, input, reserved, plan);
  }
  // One copy at a time, and only when every copy is up and none is stopping.
  const live = [...occupied.values()].flat();
  const settled = occupied.size === wanted && live.every((a) => a.desired === 'run' && a.status === 'running');
  if (!settled) return;
  const next = live.find((a) => a.version < job.version) ?? live.find((a) => input.nodes.find((n) => n.id === a.node)?.draining === true);
  if (next !== undefined) plan.stop.push(next.id);
}

/** A copy that completed (or failed under restart policy "never") stays ended. */
function replaceable(job: Job, allocation: Allocation): boolean {
  if (allocation.status === 'lost') return true;
  if (allocation.status === 'complete') return job.spec.restart.policy === 'always';
  return job.spec.restart.policy !== 'never';
}

/** The copy's latest allocation ended on its own (not stopped by the scheduler) and is not to be replaced. */
function finished(job: Job, mine: readonly Allocation[], index: number): boolean {
  const last = mine.filter((a) => a.index === index && a.version === job.version).at(-1);
  return last !== undefined && last.desired === 'run' && isEnded(last) && !replaceable(job, last);
}

function placeCopy(job: Job, index: number, input: SchedulerInput, reserved: Reservations, plan: Plan): void {
  const { resources } = job.spec;
  const problems = new Set<string>();
  const candidates = input.nodes.filter((node) => {
    const problem = unfit(node, job, reserved);
    if (problem !== null) problems.add(problem);
    return problem === null;
  });
  if (candidates.length === 0) {
    plan.blocked.push({ job: job.spec.name, index, reason: problems.size === 0 ? 'no node is registered to run jobs' : [...problems].sort().join('; ') });
    return;
  }
  const score = (node: WorkloadNode): [number, number] => [reserved.copies(node.id, job.spec.name), -reserved.freeMemory(node.id)];
  const best = candidates.sort((a, b) => {
    const [sa, sb] = [score(a), score(b)];
    return sa[0] - sb[0] || sa[1] - sb[1] || (a.id < b.id ? -1 : 1);
  })[0];
  if (best === undefined) return;
  const ports = reserved.takePorts(best.id, job.spec.ports);
  if (ports === null) {
    plan.blocked.push({ job: job.spec.name, index, reason: `${best.id} has no free port in ${portRange.min}-${portRange.max - 1}` });
    return;
  }
  const placement: Placement = { id: `${job.spec.name}.${index}.${input.newId()}`, job: job.spec.name, version: job.version, index, node: best.id, ports, ...resources };
  reserved.add(placement);
  plan.place.push(placement);
}

function unfit(node: WorkloadNode, job: Job, reserved: Reservations): string | null {
  const { resources, constraints } = job.spec;
  if (node.status !== 'ready') return `${node.id} is down`;
  if (!node.eligible) return `${node.id} is not eligible`;
  if (node.draining) return `${node.id} is draining`;
  if (constraints.role !== 'any' && node.role !== constraints.role) return `${node.id} is not a ${constraints.role}`;
  for (const [label, value] of Object.entries(constraints.labels)) if (node.labels[label] !== value) return `${node.id} lacks ${label}=${value}`;
  if (reserved.freeMemory(node.id) < resources.memoryMb) return `${node.id} has ${reserved.freeMemory(node.id)} MB free, ${resources.memoryMb} MB wanted`;
  if (reserved.freeCpu(node.id) + 1e-9 < resources.cpu) return `${node.id} has ${reserved.freeCpu(node.id).toFixed(2)} cpu free, ${resources.cpu} wanted`;
  return null;
}

/** What each node has promised to allocations that may be running, including the ones this plan adds. */
class Reservations {
  private readonly memory = new Map<string, number>();
  private readonly cpu = new Map<string, number>();
  private readonly jobCopies = new Map<string, number>();
  private readonly ports = new Map<string, Set<number>>();
  private readonly capacity: ReadonlyMap<string, WorkloadNode>;

  constructor(nodes: readonly WorkloadNode[], allocations: readonly Allocation[]) {
    this.capacity = new Map(nodes.map((n) => [n.id, n]));
    for (const a of allocations) if (!isEnded(a)) this.add(a);
  }

  copies(node: string, job: string): number {
    return this.jobCopies.get(`${node}/${job}`) ?? 0;
  }

  freeMemory(node: string): number {
    return (this.capacity.get(node)?.memoryMb ?? 0) - (this.memory.get(node) ?? 0);
  }

  freeCpu(node: string): number {
    return (this.capacity.get(node)?.cpu ?? 0) - (this.cpu.get(node) ?? 0);
  }

  add({ node, job, memoryMb, cpu, ports }: Placement): void {
    this.memory.set(node, (this.memory.get(node) ?? 0) + memoryMb);
    this.cpu.set(node, (this.cpu.get(node) ?? 0) + cpu);
    this.jobCopies.set(`${node}/${job}`, this.copies(node, job) + 1);
    const used = this.ports.get(node) ?? new Set<number>();
    for (const port of Object.values(ports)) used.add(port);
    this.ports.set(node, used);
  }

  /** The lowest free ports on the node, one per name (add() then marks them used); null when the range is used up. */
  takePorts(node: string, names: readonly string[]): Record<string, number> | null {
    const used = this.ports.get(node) ?? new Set<number>();
    const ports: Record<string, number> = {};
    let port: number = portRange.min;
    for (const name of names) {
      while (used.has(port)) port++;
      if (port >= portRange.max) return null;
      ports[name] = port++;
    }
    return ports;
  }
}
