/**
 * `quorate node list`'s view: the Raft members as any node gathers them (every member's own
 * report) merged with the nodes that run jobs as the leader sees them (GET /v1/nodes: free
 * memory, job counts, scheduling flags). Servers come from the first, workers only from the
 * second. Printed in seed 000's layout, with the scheduling flags after the jobs:
 *
 *   node-1   server  ready   3.2 GB free   2 jobs
 *   node-10  worker  ready   7.8 GB free   0 jobs  (draining)
 */
import type { ClusterStatusJson, MemberViewJson, NodeViewJson } from '../api/index.js';
import { formatTable } from './table.js';

const mib = 1024 ** 2;

/** A member still catching up is a learner, whatever it will become. */
export function memberRole(member: MemberViewJson): 'server' | 'learner' {
  return member.voter ? 'server' : 'learner';
}

/** One line of `node list` (and its --json form). */
export interface NodeListEntry {
  readonly id: string;
  /** learner: a Raft member still catching up. */
  readonly role: 'server' | 'learner' | 'worker';
  /** lost: the leader stopped hearing from it and is fencing it; down: fenced, its allocations are replaced. */
  readonly state: MemberViewJson['state'] | 'lost' | 'down';
  readonly freeMemoryMb: number | null;
  /** Allocations on the node that may be running; null when no leader could say. */
  readonly jobs: number | null;
  readonly eligible: boolean;
  readonly draining: boolean;
}

function entry(id: string, role: NodeListEntry['role'], state: NodeListEntry['state'], node: NodeViewJson | undefined, reportedFreeMb: number | null, jobsKnown: boolean): NodeListEntry {
  return {
    id,
    role,
    state: node === undefined || node.status === 'ready' ? state : node.status,
    // The leader's figure is the agent's latest heartbeat; the member report is the fallback.
    freeMemoryMb: node?.freeMemoryMb ?? reportedFreeMb,
    jobs: jobsKnown ? (node?.jobs ?? 0) : null,
    eligible: node?.eligible ?? true,
    draining: node?.draining ?? false,
  };
}

/** The Raft members (in the cluster view's order), then the workers; `nodes` is null when the leader could not be asked. */
export function nodeList(view: ClusterStatusJson, nodes: readonly NodeViewJson[] | null): NodeListEntry[] {
  const byId = new Map((nodes ?? []).map((node) => [node.id, node]));
  const members = view.members.map((m) =>
    entry(m.id, memberRole(m), m.state, byId.get(m.id), m.report === null ? null : m.report.freeMemoryBytes / mib, nodes !== null),
  );
  const memberIds = new Set(view.members.map((m) => m.id));
  const workers = (nodes ?? []).filter((node) => node.role === 'worker' && !memberIds.has(node.id)).map((node) => entry(node.id, 'worker', 'ready', node, null, true));
  return [...members, ...workers];
}

function flags(entry: NodeListEntry): string {
  const set = [...(entry.draining ? ['draining'] : []), ...(entry.eligible ? [] : ['ineligible'])];
  return set.length === 0 ? '' : `(${set.join(', ')})`;
}

export function formatNodeList(entries: readonly NodeListEntry[]): string {
  const rows = entries.map((e) => [
    e.id,
    e.role,
    e.state,
    e.freeMemoryMb === null ? '? free' : `${(e.freeMemoryMb / 1024).toFixed(1)} GB free`,
    e.jobs === null ? '? jobs' : `${e.jobs} ${e.jobs === 1 ? 'job' : 'jobs'}`,
    flags(e),
  ]);
  // Seed 000's spacing: two spaces after the id and the role, three after the state and the memory.
  return formatTable(rows, [2, 2, 3, 3, 2]);
}
