/**
 * Configuration of the consensus core. Time inside the core is counted in ticks; the node
 * driver converts milliseconds (seed 001's defaults: heartbeat 100 ms, election 300 ms) into
 * ticks of `tickMs`.
 */
import { QuorateError } from '../util/errors.js';

export type ReadMode = 'readIndex' | 'lease';

/**
 * Deliberate bugs, switched on only by tests that prove the simulator's checkers catch them.
 * Production code never sets these.
 */
export interface TestingBugs {
  /** Commit an entry of an earlier term by counting replicas (violates section 5.4.2). */
  readonly commitOldTermByCounting?: boolean;
  /** Grant a vote to every up-to-date candidate, even after voting in this term. */
  readonly voteTwice?: boolean;
  /** Answer a read on any node at its own commit index, with no ReadIndex round or leader. */
  readonly readWithoutQuorum?: boolean;
  /** Grant votes without checking that the candidate's log is up to date (section 5.4.1). */
  readonly skipElectionRestriction?: boolean;
}

export interface RaftConfig {
  /**
   * Base election timeout; each node waits a random time in [electionTicks, electionTicks *
   * (1 + electionJitter)).
   */
  readonly electionTicks: number;
  /**
   * The spread of the randomized election timeout, as a fraction of electionTicks (0 < f <= 1;
   * 1 is the paper's and etcd's [T, 2T)). The slowest failover is about the top of the range, so
   * a narrower one shortens the tail; what it costs is more followers timing out together,
   * which the PreVote tie-break (losesPreVoteTie) turns into one election instead of a split
   * vote, provided the pre-votes arrive within a tick: the transport keeps its peer connections
   * up for that reason. Measured with 0.5 over 40 real leader kills: p50 354 ms, max 445 ms;
   * with 1 the p99 sits near 600 ms.
   */
  readonly electionJitter: number;
  readonly heartbeatTicks: number;
  /** Section 9.6 of the thesis: a pre-election round so a rejoining node cannot disrupt a leader. */
  readonly preVote: boolean;
  /** A leader that has not heard from a quorum for an election timeout steps down. */
  readonly checkQuorum: boolean;
  /** Lease reads trust the leader's lease instead of a heartbeat round; they need CheckQuorum. */
  readonly readMode: ReadMode;
  /** Bytes of entries in one append message (at least one entry is always sent). */
  readonly appendBytesMax: number;
  /** Flow control per follower: unacknowledged append messages and their bytes. */
  readonly inflightMessagesMax: number;
  readonly inflightBytesMax: number;
  /** Bytes of proposed but uncommitted entries the leader accepts before dropping proposals. */
  readonly uncommittedBytesMax: number;
  /** Bytes of committed entries handed out for applying in one Ready. */
  readonly applyBytesMax: number;
  /** Pending ReadIndex requests on the leader. */
  readonly readRequestsMax: number;
  /** A snapshot that the follower has not acknowledged after this many ticks is sent again. */
  readonly snapshotTicksMax: number;
  /** Ask the application for a snapshot once this many entries were applied since the last. */
  readonly snapshotEntries: number;
  /** Entries kept behind a snapshot, so a follower slightly behind gets entries, not a snapshot. */
  readonly snapshotTrailingEntries: number;
  readonly testingBugs?: TestingBugs;
}

export const defaultRaftConfig: RaftConfig = {
  electionTicks: 30,
  electionJitter: 0.5,
  heartbeatTicks: 10,
  preVote: true,
  checkQuorum: true,
  readMode: 'readIndex',
  appendBytesMax: 1024 * 1024,
  inflightMessagesMax: 256,
  inflightBytesMax: 32 * 1024 * 1024,
  uncommittedBytesMax: 64 * 1024 * 1024,
  applyBytesMax: 16 * 1024 * 1024,
  readRequestsMax: 10_000,
  snapshotTicksMax: 3000,
  snapshotEntries: 10_000,
  snapshotTrailingEntries: 5_000,
};

/** Reject configurations that would make the core unsafe or unable to elect a leader. */
export function validateRaftConfig(config: RaftConfig): RaftConfig {
  const problems: string[] = [];
  if (!Number.isInteger(config.heartbeatTicks) || config.heartbeatTicks < 1) problems.push('heartbeatTicks must be a positive integer');
  if (!Number.isInteger(config.electionTicks) || config.electionTicks <= config.heartbeatTicks) {
    problems.push('electionTicks must be an integer greater than heartbeatTicks (typically 3 to 10 times)');
  }
  if (!(config.electionJitter > 0 && config.electionJitter <= 1)) problems.push('electionJitter must be a fraction of electionTicks above 0 and at most 1');
  if (config.readMode === 'lease' && !config.checkQuorum) problems.push('readMode "lease" needs checkQuorum, or a deposed leader could serve stale reads');
  if (!(config.snapshotTrailingEntries >= 0)) problems.push('snapshotTrailingEntries must not be negative');
  for (const key of ['appendBytesMax', 'inflightMessagesMax', 'inflightBytesMax', 'uncommittedBytesMax', 'applyBytesMax', 'readRequestsMax', 'snapshotTicksMax', 'snapshotEntries'] as const) {
    if (!(config[key] > 0)) problems.push(`${key} must be positive`);
  }
  if (problems.length > 0) throw new QuorateError('InvalidConfig', `invalid raft configuration: ${problems.join('; ')}`);
  return config;
}
