/**
 * The series that mirror a node's live state, read from the node at each scrape: Raft's term,
 * role and indexes, the leader's view of each peer, the proposals in flight, the replicated
 * job registry, the certificates' expiry, and the process's memory. Counts the driver already keeps
 * (ConsensusCounters) are mirrored as counters.
 */
import type { Registry } from 'prom-client';
import type { RaftStatus } from '../raft/index.js';
import type { Allocation, AllocationStatus } from '../state/index.js';
import type { PeerStatus } from '../transport/index.js';
import type { ConsensusCounters } from './counters.js';
import { mirror, type Labels, type Mirror, type MirrorReading, type MirrorSpec } from './metric-mirror.js';
import type { NodeTlsInfo } from './node-tls.js';

/** What the gauges read; bound once the node exists (storage is timed before it does). */
export interface MetricsSource {
  readonly counters: ConsensusCounters;
  raft(): RaftStatus;
  peers(): ReadonlyMap<string, PeerStatus>;
  allocations(): readonly Allocation[];
  tls(): NodeTlsInfo;
}

const allocationStates: readonly AllocationStatus[] = ['pending', 'running', 'failed', 'complete', 'lost'];

/** Register the live series; each reads `source()` and reports nothing (0) until it is bound. */
export function registerNodeGauges(registry: Registry, source: () => MetricsSource | null): Mirror[] {
  const read =
    (f: (s: MetricsSource) => MirrorReading, none: MirrorReading = 0) =>
    (): MirrorReading => {
      const s = source();
      return s === null ? none : f(s);
    };
  const specs: MirrorSpec[] = [
    { name: 'quorate_term', help: "This node's current Raft term.", type: 'gauge', read: read((s) => s.raft().term) },
    { name: 'quorate_is_leader', help: '1 while this node is the leader, else 0.', type: 'gauge', read: read((s) => (s.raft().role === 'leader' ? 1 : 0)) },
    { name: 'quorate_has_leader', help: '1 while this node knows a leader, else 0 (an election is under way or quorum is lost).', type: 'gauge', read: read((s) => (s.raft().leader === null ? 0 : 1)) },
    { name: 'quorate_voters', help: 'Voters in the configuration this node knows; a quorum is a majority of them.', type: 'gauge', read: read((s) => s.raft().conf.voters.length) },
    { name: 'quorate_commit_index', help: 'The highest log index this node knows is committed.', type: 'gauge', read: read((s) => s.raft().commit) },
    { name: 'quorate_applied_index', help: 'The highest log index applied to the state machine on this node.', type: 'gauge', read: read((s) => s.raft().applied) },
    { name: 'quorate_last_index', help: "The last index in this node's log.", type: 'gauge', read: read((s) => s.raft().lastIndex) },
    { name: 'quorate_leader_changes_total', help: 'Leader changes this node has seen.', type: 'counter', read: read((s) => s.counters.leaderChanges) },
    { name: 'quorate_elections_started_total', help: 'Elections this node started as a candidate.', type: 'counter', read: read((s) => s.counters.electionsStarted) },
    { name: 'quorate_proposals_committed_total', help: 'Proposals this node made as leader that were committed and applied.', type: 'counter', read: read((s) => s.counters.proposalsCommitted) },
    { name: 'quorate_proposals_failed_total', help: 'Proposals this node made as leader that failed (timed out, replaced by a new leader, node stopped).', type: 'counter', read: read((s) => s.counters.proposalsFailed) },
    { name: 'quorate_proposals_pending', help: 'Proposals in this leader\'s log waiting to commit.', type: 'gauge', read: read((s) => s.counters.proposalsPending) },
    {
      name: 'quorate_replication_lag_entries',
      help: "Leader only: how many entries each peer's log is behind the leader's (last index minus the peer's match index).",
      type: 'gauge',
      labelNames: ['peer'],
      read: read((s) => replicationLag(s.raft()), []),
    },
    {
      name: 'quorate_peer_last_contact_seconds',
      help: 'Seconds since this node last received anything from each peer.',
      type: 'gauge',
      labelNames: ['peer'],
      read: read((s) => lastContact(s.peers()), []),
    },
    {
      name: 'quorate_peer_messages_sent_total',
      help: 'Raft messages this node handed to the connection to each peer (heartbeats, appends, votes, read and forwarding requests).',
      type: 'counter',
      labelNames: ['peer'],
      read: read((s) => perPeer(s.peers(), (p) => p.messagesSent), []),
    },
    {
      name: 'quorate_peer_frames_sent_total',
      help: 'Frames written to each peer: the messages of one turn of the event loop travel in one frame, so messages per frame is the batching.',
      type: 'counter',
      labelNames: ['peer'],
      read: read((s) => perPeer(s.peers(), (p) => p.framesSent), []),
    },
    { name: 'quorate_job_allocations', help: 'Allocations in the replicated job registry, by state.', type: 'gauge', labelNames: ['state'], read: read((s) => allocationsByState(s.allocations()), []) },
    {
      name: 'quorate_certificate_expiry_seconds',
      help: "Seconds until this node's certificate (certificate=node) and the earliest trusted CA (certificate=ca) expire.",
      type: 'gauge',
      labelNames: ['certificate'],
      read: read((s) => certificateExpiry(s.tls(), Date.now()), []),
    },
    {
      name: 'quorate_process_memory_bytes',
      help: "The process's memory: resident set (rss), V8 heap in use and reserved (heap_used, heap_total), and outside the heap (external, of it array_buffers).",
      type: 'gauge',
      labelNames: ['kind'],
      // Process-wide, not per node: several nodes in one process (the library) all report it.
      read: () => processMemory(),
    },
  ];
  return specs.map((spec) => mirror(registry, spec));
}

function replicationLag(raft: RaftStatus): [Labels, number][] {
  if (raft.role !== 'leader') return [];
  return [...raft.progress].filter(([id]) => id !== raft.id).map(([peer, { match }]) => [{ peer }, Math.max(0, raft.lastIndex - match)]);
}

function lastContact(peers: ReadonlyMap<string, PeerStatus>): [Labels, number][] {
  return [...peers.values()].flatMap((p): [Labels, number][] => (p.lastReceivedMs === null ? [] : [[{ peer: p.nodeId }, p.lastReceivedMs / 1000]]));
}

function perPeer(peers: ReadonlyMap<string, PeerStatus>, count: (p: PeerStatus) => number): [Labels, number][] {
  return [...peers.values()].map((p) => [{ peer: p.nodeId }, count(p)]);
}

function allocationsByState(allocations: readonly Allocation[]): [Labels, number][] {
  const counts = new Map(allocationStates.map((state) => [state, 0]));
  for (const allocation of allocations) counts.set(allocation.status, (counts.get(allocation.status) ?? 0) + 1);
  return [...counts].map(([state, count]) => [{ state }, count]);
}

function processMemory(): [Labels, number][] {
  const usage = process.memoryUsage();
  return [
    [{ kind: 'rss' }, usage.rss],
    [{ kind: 'heap_used' }, usage.heapUsed],
    [{ kind: 'heap_total' }, usage.heapTotal],
    [{ kind: 'external' }, usage.external],
    [{ kind: 'array_buffers' }, usage.arrayBuffers],
  ];
}

function certificateExpiry(info: NodeTlsInfo, nowMs: number): [Labels, number][] {
  const left = (iso: string): number => (Date.parse(iso) - nowMs) / 1000;
  return [
    [{ certificate: 'node' }, left(info.certificateNotAfter)],
    [{ certificate: 'ca' }, left(info.caNotAfter)],
  ];
}
