/**
 * Cluster events from the replicated log. Every node applies the same entries, so every node
 * derives the same membership, node and job events from them on its own, without a word from
 * the leader: a follower that is asked shows what the leader decided.
 *
 * The derivation wraps the state machine handed to the Raft driver. For an entry that can change
 * the membership, a node's readiness, the allocations or the fencing history, it notes the
 * relevant part of the state before the entry is applied and compares it with the state after,
 * so an entry the state machine refuses (a plan made on a stale view, say) makes no event. The
 * replicated state itself stays as it was, deterministic; only the events, stamped with this
 * node's clock by EventLog, live outside it. KV commands, most of the log, are passed straight
 * through.
 *
 * Entries up to the commit index found on disk at start were applied, and reported, by the
 * process before this one: replaying them says nothing new, so they make no events. Nor does a
 * snapshot installed from the leader: it says where the cluster is, not what happened.
 */
import type { StateMachine } from '../node/index.js';
import type { ConfChange, Entry } from '../raft/index.js';
import { commandTable, type Allocation, type ClusterApplyResult, type ClusterStateMachine, type FenceEvent, type WorkloadNode, type WorkloadRegistry } from '../state/index.js';
import type { EventFact } from './events.js';

export class EventingStateMachine implements StateMachine<ClusterApplyResult> {
  constructor(
    private readonly state: ClusterStateMachine,
    private readonly record: (fact: EventFact) => void,
    /** The commit index on disk when the process started: entries up to it are replayed. */
    private readonly replayedThrough: number,
  ) {}

  apply(entry: Entry): ClusterApplyResult {
    if (entry.index <= this.replayedThrough) return this.state.apply(entry);
    switch (commandTable(entry)) {
      case 'conf': {
        const result = this.state.apply(entry);
        if (entry.type === 'conf') this.record(memberFact(entry.change, entry.term));
        return result;
      }
      case 'workload': {
        const before = workloadView(this.state.workload);
        const result = this.state.apply(entry);
        for (const fact of workloadFacts(before, workloadView(this.state.workload), entry.term)) this.record(fact);
        return result;
      }
      case 'fencing': {
        const seen = this.state.fencing.history().at(-1)?.seq ?? 0;
        const result = this.state.apply(entry);
        for (const fence of this.state.fencing.history()) if (fence.seq > seen) this.recordFence(fence, entry.term);
        return result;
      }
      default:
        return this.state.apply(entry);
    }
  }

  snapshot(): Uint8Array {
    return this.state.snapshot();
  }

  snapshotInBackground(): AsyncIterable<Uint8Array> {
    return this.state.snapshotInBackground();
  }

  restore(data: Uint8Array): void {
    this.state.restore(data);
  }

  private recordFence(fence: FenceEvent, term: number): void {
    // A failed attempt changes nothing yet: the node stays lost and the leader tries again.
    if (fence.outcome === 'fenced') this.record({ type: 'node_fenced', node: fence.node, term, message: `${fence.node} was fenced ${fencedBy[fence.method]}` });
  }
}

const fencedBy: Readonly<Record<FenceEvent['method'], string>> = {
  devices: 'by its fence devices',
  watchdog: 'by its watchdog (no heartbeat for longer than fence_delay)',
  manual: 'by an operator',
};

export function memberFact(change: ConfChange, term: number): EventFact {
  const node = change.nodeId;
  switch (change.type) {
    case 'addLearner':
      return { type: 'member_joined', node, term, message: `${node} joined the cluster as a learner` };
    case 'promote':
      return { type: 'member_promoted', node, term, message: `${node} was promoted from learner to voter` };
    case 'remove':
      return { type: 'member_removed', node, term, message: `${node} was removed from the cluster` };
  }
}

/** What the workload events are derived from: each node's record and each allocation, by id. */
export interface WorkloadView {
  readonly nodes: ReadonlyMap<string, WorkloadNode>;
  readonly allocations: ReadonlyMap<string, Allocation>;
}

/** The registry hands out immutable records (a change replaces one), so the view holds references, not copies. */
export function workloadView(registry: WorkloadRegistry): WorkloadView {
  return { nodes: new Map(registry.nodes().map((n) => [n.id, n])), allocations: new Map(registry.allocations().map((a) => [a.id, a])) };
}

export function workloadFacts(before: WorkloadView, after: WorkloadView, term: number): EventFact[] {
  const facts: EventFact[] = [];
  for (const node of after.nodes.values()) {
    const was = before.nodes.get(node.id)?.status;
    if (was !== node.status) facts.push(nodeFact(node.id, node.status, was, term));
  }
  for (const allocation of after.allocations.values()) {
    const was = before.allocations.get(allocation.id);
    if (was === undefined) facts.push(placementFact(allocation, previousCopy(before, allocation), term));
    else if (allocation.status === 'failed' && was.status !== 'failed') facts.push(failureFact(allocation, term));
  }
  return facts;
}

function nodeFact(node: string, status: WorkloadNode['status'], was: WorkloadNode['status'] | undefined, term: number): EventFact {
  switch (status) {
    case 'lost':
      return { type: 'node_lost', node, term, message: `${node} is lost: the leader stopped hearing from it and is fencing it` };
    case 'down':
      return { type: 'node_down', node, term, message: `${node} is down: fenced, its allocations are replaced` };
    case 'ready':
      return { type: 'node_ready', node, term, message: was === undefined ? `${node} is ready to run jobs` : `${node} is ready again (it was ${was})` };
  }
}

/** The newest allocation that held the same copy of the job before this one. */
function previousCopy(before: WorkloadView, allocation: Allocation): Allocation | undefined {
  let previous: Allocation | undefined;
  for (const a of before.allocations.values()) {
    if (a.job === allocation.job && a.index === allocation.index && (previous === undefined || a.seq > previous.seq)) previous = a;
  }
  return previous;
}

function placementFact(allocation: Allocation, previous: Allocation | undefined, term: number): EventFact {
  const { job, index, node, id, version } = allocation;
  if (previous?.status === 'lost') {
    return { type: 'job_replaced', node, job, term, message: `job ${job} copy ${index} replaced on ${node} (allocation ${id}): its allocation on ${previous.node} was lost` };
  }
  return { type: 'job_placed', node, job, term, message: `job ${job} copy ${index} placed on ${node} (allocation ${id}, version ${version})` };
}

function failureFact(allocation: Allocation, term: number): EventFact {
  const { job, index, node, id, exitCode, message } = allocation;
  const why = message !== '' ? message : exitCode === null ? 'no exit code' : `exit code ${exitCode}`;
  return { type: 'job_failed', node, job, term, message: `job ${job} copy ${index} failed on ${node} (allocation ${id}): ${why}` };
}
