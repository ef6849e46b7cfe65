/**
 * The node's view of the cluster for status output (seed 000's `cluster status`, seed 001's
 * health metrics): every member of the configuration with its addresses, its health judged
 * from the last message received from it, and (on the leader) its replicated index.
 */
import type { RaftStatus } from '../raft/index.js';
import type { MemberRegistry } from '../state/index.js';
import { defaultTransportLimits, type PeerStatus } from '../transport/index.js';
import { formatHostPort, type ServerConfig } from './config.js';
import type { MemberHealth, MemberStatus, NodeStatus } from './service.js';

export function nodeStatus(
  raft: RaftStatus,
  registry: MemberRegistry,
  peers: ReadonlyMap<string, PeerStatus>,
  revision: number,
  config: ServerConfig,
): NodeStatus {
  const ids = [...raft.conf.voters, ...raft.conf.learners].sort();
  const members = ids.map((id): MemberStatus => {
    const registered = registry.get(id);
    const self = id === raft.id;
    const lastContactMs = self ? 0 : (peers.get(id)?.lastReceivedMs ?? null);
    return {
      id,
      voter: raft.conf.voters.includes(id),
      arbiter: registered?.arbiter === true,
      peerAddress: registered?.peerAddress ?? (self ? formatHostPort(config.advertise) : ''),
      apiAddress: registered?.apiAddress ?? (self ? formatHostPort(config.api) : ''),
      health: health(lastContactMs, config),
      matchIndex: raft.role === 'leader' ? (raft.progress.get(id)?.match ?? 0) : null,
      lastContactMs,
    };
  });
  const learner = raft.conf.learners.includes(raft.id);
  return {
    id: raft.id,
    role: learner && raft.role === 'follower' ? 'learner' : raft.role,
    term: raft.term,
    leader: raft.leader,
    commitIndex: raft.commit,
    appliedIndex: raft.applied,
    revision,
    writeQuorum: config.writeQuorum,
    members,
  };
}

/**
 * Any frame counts as contact: a leader hears each follower every heartbeat, but followers hear
 * each other only through the transport's idle pings (defaultTransportLimits.pingIntervalMs).
 * So a member is healthy when heard from within an election timeout or 1.5 ping intervals,
 * whichever is longer (a quiet but connected peer must not flap), degraded within the
 * transport's silence limit (after which it drops the connection), and unreachable beyond.
 */
function health(lastContactMs: number | null, config: ServerConfig): MemberHealth | null {
  if (lastContactMs === null) return null;
  if (lastContactMs <= Math.max(config.electionTimeoutMs, 1.5 * defaultTransportLimits.pingIntervalMs)) return 'healthy';
  if (lastContactMs <= defaultTransportLimits.silenceMsMax) return 'degraded';
  return 'unreachable';
}
