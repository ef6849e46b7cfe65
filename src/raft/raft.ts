/**
 * The Raft consensus core: a pure, synchronous state machine in the style of etcd-io/raft.
 * Inputs are `step` (a message from a peer), `tick` (time passed), `propose`,
 * `proposeConfChange`, `readIndex` and `transferLeader`; the output is `ready()`, which the
 * node driver carries out and acknowledges with `advance()`. No I/O, no clock, no ambient
 * randomness: given the same inputs and PRNG seed it makes the same decisions.
 *
 * Section numbers refer to the extended Raft paper; "thesis" to Ongaro's dissertation.
 */
import { assert } from '../util/assert.js';
import type { Prng } from '../util/prng.js';
import { defaultRaftConfig, validateRaftConfig, type RaftConfig } from './config.js';
import { RaftError, notLeader } from './errors.js';
import { RaftLog } from './log.js';
import type { Progress } from './progress.js';
import { ReadOnlyQueue } from './read-only.js';
import { ProgressTracker } from './tracker.js';
import {
  entrySize,
  isHeartbeat,
  message,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ReadState,
  type Ready,
  type Role,
  type Snapshot,
  type SnapshotMeta,
  type SoftState,
} from './types.js';

export interface RaftInit {
  readonly id: NodeId;
  readonly prng: Prng;
  readonly config?: Partial<RaftConfig>;
  /** Durable state from storage; a brand-new node passes term 0, no vote, commit 0. */
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
}

export interface BasicStatus extends SoftState {
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
}

export interface RaftStatus extends BasicStatus {
  readonly id: NodeId;
  readonly vote: NodeId | null;
  readonly conf: ConfState;
  /** Leader only: each member's match index and replication state. */
  readonly progress: ReadonlyMap<NodeId, { readonly match: number; readonly next: number; readonly state: string }>;
  readonly leadTransferee: NodeId | null;
}

export interface Proposed {
  readonly index: number;
  readonly term: number;
}

type CampaignKind = 'preElection' | 'election' | 'transfer';

/** Context of a vote request sent because the leader handed over leadership (TimeoutNow). */
const transferContext = 'transfer';

export class Raft {
  readonly id: NodeId;
  private readonly config: RaftConfig;
  private readonly prng: Prng;
  private readonly log: RaftLog;
  private readonly tracker: ProgressTracker;
  private readonly readOnly: ReadOnlyQueue;

  private term: number;
  private vote: NodeId | null;
  private role: Role = 'follower';
  private leader: NodeId | null = null;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  /** Leader: ticks since this node became leader, the clock for CheckQuorum and the lease. */
  private leaderTicks = 0;
  /** Leader: TimeoutNow was sent; its target campaigns past every lease, so no lease reads. */
  private leaseRevoked = false;
  /**
   * Lease reads only: a node that just started may have acknowledged a leader's heartbeat in
   * its previous life, so it refuses votes for one election timeout as if it were in a lease.
   */
  private startupQuiet: boolean;
  private randomizedElectionTimeout = 0;

  /** Leader: index of the latest configuration change; a new one waits until it is applied. */
  private pendingConfIndex = 0;
  /** Leader: index of the no-op that opened this term; committed means reads and changes are safe. */
  private termStartIndex = 0;
  private leadTransferee: NodeId | null = null;
  /** Leader: appends to broadcast at the next ready(), so that proposals batch into one message. */
  private appendPending = false;
  private uncommittedBytes = 0;
  /** Leader: read requests that arrived before an entry of this term was committed. */
  private readsAwaitingTermCommit: { context: string; from: NodeId }[] = [];

  private messages: Message[] = [];
  private readStates: ReadState[] = [];
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private readyInProgress: Ready | null = null;

  constructor(init: RaftInit) {
    this.id = init.id;
    this.config = validateRaftConfig({ ...defaultRaftConfig, ...init.config });
    this.prng = init.prng;
    this.log = new RaftLog({ snapshot: init.snapshot, entries: init.entries, commit: init.hardState.commit });
    this.tracker = new ProgressTracker(init.snapshot?.meta.conf ?? { voters: [], learners: [] }, this.config);
    this.readOnly = new ReadOnlyQueue(this.config.readRequestsMax);
    this.term = init.hardState.term;
    this.vote = init.hardState.vote;
    this.prevHardState = init.hardState;
    this.startupQuiet = this.config.readMode === 'lease';
    this.becomeFollower(this.term, null);
    this.prevSoftState = this.softState();
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs

  /** One unit of time passed (the driver calls this every tickMs). */
  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  /** Append application data to the log (leader only). Returns the index and term of the last entry. */
  propose(data: readonly Uint8Array[]): Proposed {
    this.assertCanPropose();
    const first = this.log.lastIndex() + 1;
    const entries: Entry[] = data.map((d, i) => ({ type: 'normal', index: first + i, term: this.term, data: d }));
    const bytes = entries.reduce((sum, e) => sum + entrySize(e), 0);
    if (this.uncommittedBytes + bytes > this.config.uncommittedBytesMax && this.uncommittedBytes > 0) {
      throw new RaftError('ProposalDropped', `too many uncommitted proposals (${this.uncommittedBytes} bytes pending); retry after the followers catch up`, this.id);
    }
    this.uncommittedBytes += bytes;
    this.appendEntries(entries);
    return { index: this.log.lastIndex(), term: this.term };
  }

  /**
   * Propose a single-server membership change (thesis section 4.1). Refused while another change
   * is not yet applied, and until this leader has committed an entry of its own term (the fix
   * for the single-server change bug described on raft-dev in 2015).
   */
  proposeConfChange(change: ConfChange): Proposed {
    this.assertCanPropose();
    if (this.pendingConfIndex > this.log.applied) {
      throw new RaftError('ConfChangePending', 'another membership change is in progress; retry when it has been applied', this.id);
    }
    if (!this.committedInTerm()) {
      throw new RaftError('ConfChangePending', 'this leader was just elected and has not committed an entry of its term yet; retry shortly', this.id);
    }
    const problem = this.tracker.validate(change);
    if (problem !== null) throw new RaftError('ConfChangeInvalid', `membership change refused: ${problem}`, this.id);
    const index = this.log.lastIndex() + 1;
    this.appendEntries([{ type: 'conf', index, term: this.term, change }]);
    this.pendingConfIndex = index;
    return { index, term: this.term };
  }

  /**
   * Ask for a linearizable read point. The answer arrives as a ReadState in a later Ready with
   * the same context; on a follower the request is forwarded to the leader.
   */
  readIndex(context: string): void {
    assert(context !== '', 'a read needs a non-empty context');
    if (this.config.testingBugs?.readWithoutQuorum === true) {
      this.readStates.push({ index: this.log.committed, context });
      return;
    }
    if (this.role === 'leader') {
      this.leaderReadIndex(context, this.id);
      return;
    }
    if (this.leader === null) throw new RaftError('ReadUnavailable', 'no leader is known; retry shortly');
    this.send(message({ type: 'MsgReadIndex', from: this.id, to: this.leader, term: this.term, context }));
  }

  /**
   * The transport's word on a snapshot stream to `to`. A failed stream puts the follower back
   * to probing, so the next heartbeat response sends a new snapshot, instead of waiting out
   * snapshotTicksMax for an acknowledgement that cannot come. A finished stream changes
   * nothing: the follower's acknowledgement after installing it moves replication on.
   */
  reportSnapshot(to: NodeId, ok: boolean): void {
    if (this.role !== 'leader' || ok) return;
    const pr = this.tracker.progress.get(to);
    if (pr?.state === 'snapshot') pr.becomeProbe();
  }

  /**
   * Hand leadership to `target` (thesis section 3.10). The leader stops accepting proposals,
   * brings the target's log up to date, and only then sends TimeoutNow; a target whose log is
   * still behind after an election timeout is refused and the transfer is abandoned.
   */
  transferLeader(target: NodeId): void {
    if (this.role !== 'leader') throw notLeader(this.id, this.leader);
    if (target === this.id) return;
    if (!this.tracker.isVoter(target)) throw new RaftError('TransferInvalid', `${target} is not a voter and cannot become leader`, this.id);
    if (this.leadTransferee !== null) {
      if (this.leadTransferee === target) return;
      throw new RaftError('TransferInProgress', `a transfer to ${this.leadTransferee} is in progress`, this.id);
    }
    this.leadTransferee = target;
    this.electionElapsed = 0;
    if (this.progressOf(target).match === this.log.lastIndex()) this.sendTimeoutNow(target);
    else this.sendAppend(target);
  }

  /** A message from a peer. Messages from unknown terms and roles are sorted out here (Figure 2). */
  step(m: Message): void {
    assert(m.to === this.id, () => `message for ${m.to} stepped into ${this.id}`);
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return;
    } else if (m.term < this.term) {
      this.stepLowerTerm(m);
      return;
    }
    switch (m.type) {
      case 'MsgPreVote':
      case 'MsgVote':
        this.handleVoteRequest(m);
        return;
      default:
        break;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  /**
   * Record a snapshot of the applied state that the application takes (after a Ready with
   * `snapshotDue`, or whenever it likes): `takeData` is called for the state at the applied
   * index. Then drop log entries up to `compactIndex`; by default all but
   * `snapshotTrailingEntries` of those the snapshot covers.
   *
   * Returns null, without calling `takeData`, when a snapshot from the leader has replaced the
   * log since the applied entries were handed out (a MsgSnap stepped while a Ready was in
   * flight): the applied index is then no longer in the log, and the next Ready installs the
   * newer state anyway.
   */
  compact(takeData: () => Uint8Array, compactIndex?: number): Snapshot | null {
    const meta = this.snapshotPoint();
    if (meta === null) return null;
    const snapshot: Snapshot = { meta, data: takeData() };
    this.compactTo(snapshot, compactIndex);
    return snapshot;
  }

  /**
   * compact() in two steps, for state that takes a while to encode: snapshotPoint() says what
   * a snapshot of the applied state taken now stands for (null as for compact()), and
   * compactTo() records it once its data is ready, later, between Readies. Entries up to
   * that point are committed, so no leader can have changed them meanwhile; a leader's newer
   * snapshot installed meanwhile makes compactTo() a no-op.
   */
  snapshotPoint(): SnapshotMeta | null {
    const index = this.log.applied;
    const term = this.log.term(index);
    if (term === undefined) {
      assert(this.log.unstableSnapshot() !== null, `applied index ${index} is not in the log`);
      return null;
    }
    return { index, term, conf: this.tracker.confState() };
  }

  compactTo(snapshot: Snapshot, compactIndex = snapshot.meta.index - this.config.snapshotTrailingEntries): void {
    assert(this.readyInProgress === null, 'compactTo() between ready() and advance()');
    this.log.compact(snapshot, Math.min(compactIndex, snapshot.meta.index));
  }

  // ---------------------------------------------------------------------------------------------
  // Output

  hasReady(): boolean {
    if (this.readyInProgress !== null) return false;
    if (this.role === 'leader' && this.appendPending) return true;
    return (
      this.messages.length > 0 ||
      this.readStates.length > 0 ||
      this.log.unstableSnapshot() !== null ||
      this.log.hasUnstableEntries() ||
      this.log.committed > this.log.applied ||
      !sameHardState(this.hardState(), this.prevHardState) ||
      !sameSoftState(this.softState(), this.prevSoftState)
    );
  }

  ready(): Ready {
    assert(this.readyInProgress === null, 'ready() called again before advance()');
    this.flushAppends();
    const soft = this.softState();
    const hard = this.hardState();
    const entries = this.log.unstableEntries();
    const snapshot = this.log.unstableSnapshot();
    const committedEntries = this.log.nextCommittedEntries(this.config.applyBytesMax, entrySize);
    const appliedAfter = committedEntries[committedEntries.length - 1]?.index ?? this.log.applied;
    const rd: Ready = {
      softState: sameSoftState(soft, this.prevSoftState) ? null : soft,
      hardState: sameHardState(hard, this.prevHardState) ? null : hard,
      entries,
      snapshot,
      // A moved commit index alone need not be fsynced: it can be relearned from a quorum.
      mustSync: entries.length > 0 || snapshot !== null || hard.term !== this.prevHardState.term || hard.vote !== this.prevHardState.vote,
      messages: this.messages,
      committedEntries,
      readStates: this.readStates,
      snapshotDue: committedEntries.length > 0 && appliedAfter - this.log.snapshotMeta().index >= this.config.snapshotEntries,
    };
    this.messages = [];
    this.readStates = [];
    this.prevSoftState = soft;
    if (rd.hardState !== null) this.prevHardState = rd.hardState;
    this.readyInProgress = rd;
    return rd;
  }

  /**
   * Heartbeats and answers to heartbeats queued since the last ready(), taken out so that the
   * driver can send them while it is still persisting that Ready. A disk that stalls for longer
   * than an election timeout (fdatasync on the benchmark machine's disk did for 0.5-1.1 s,
   * idle or not) would otherwise hold back the leader's heartbeats and the followers' answers
   * with everything else, and the leader would step down (check quorum) or be voted out
   * although every node is up. Neither kind depends on unpersisted state (see Ready); a read's
   * heartbeat round also goes out without waiting for a write's fsync.
   */
  takeHeartbeats(): Message[] {
    // Called for every message a busy node receives: most of the time there is nothing to take.
    if (!this.messages.some(isHeartbeat)) return [];
    const heartbeats = this.messages.filter(isHeartbeat);
    this.messages = this.messages.filter((m) => !isHeartbeat(m));
    return heartbeats;
  }

  /** The driver persisted, sent and applied everything in the last Ready. */
  advance(): void {
    const rd = this.readyInProgress;
    assert(rd !== null, 'advance() without ready()');
    this.readyInProgress = null;
    if (rd.snapshot !== null) {
      this.log.snapshotApplied(rd.snapshot.meta.index);
    }
    const last = rd.entries[rd.entries.length - 1];
    if (last !== undefined) {
      this.log.stableTo(last.index, last.term);
      if (this.role === 'leader') this.leaderSelfStable();
    }
    for (const entry of rd.committedEntries) {
      this.log.appliedTo(entry.index);
      if (entry.type === 'conf') this.applyConfChange(entry.change);
    }
  }

  /** The cheap part of status(), for hot paths: primitives only. */
  basicStatus(): BasicStatus {
    return { role: this.role, leader: this.leader, term: this.term, commit: this.log.committed, applied: this.log.applied, lastIndex: this.log.lastIndex() };
  }

  status(): RaftStatus {
    const progress = new Map<NodeId, { match: number; next: number; state: string }>();
    if (this.role === 'leader') {
      for (const [id, pr] of this.tracker.progress) progress.set(id, { match: pr.match, next: pr.next, state: pr.state });
    }
    return {
      ...this.softState(),
      id: this.id,
      term: this.term,
      vote: this.vote,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      conf: this.tracker.confState(),
      progress,
      leadTransferee: this.leadTransferee,
    };
  }

  /** The entries in [lo, hi) still in the log (not compacted), for tests and checkers. */
  entries(lo: number, hi: number): Entry[] {
    return this.log.slice(Math.max(lo, this.log.firstIndex()), Math.min(hi, this.log.lastIndex() + 1));
  }

  termAt(index: number): number | undefined {
    return this.log.term(index);
  }

  firstIndex(): number {
    return this.log.firstIndex();
  }

  // ---------------------------------------------------------------------------------------------
  // Role transitions (Figure 4)

  private becomeFollower(term: number, leader: NodeId | null): void {
    this.reset(term);
    this.role = 'follower';
    this.leader = leader;
  }

  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become pre-candidate');
    // A pre-election changes neither term nor vote: that is what keeps it from disrupting anyone.
    this.role = 'preCandidate';
    this.leader = null;
    this.tracker.resetVotes();
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', `only a candidate can become leader, not a ${this.role}`);
    this.reset(this.term);
    this.role = 'leader';
    this.leader = this.id;
    const self = this.progressOf(this.id);
    self.match = this.log.stable();
    self.becomeReplicate();
    // Entries of earlier terms may hold an uncommitted configuration change: wait for them.
    this.pendingConfIndex = this.log.lastIndex();
    this.termStartIndex = this.log.lastIndex() + 1;
    // Section 8: a no-op entry commits everything before it and tells us our commit index.
    this.appendEntries([{ type: 'normal', index: this.termStartIndex, term: this.term, data: new Uint8Array(0) }]);
  }

  private reset(term: number): void {
    if (term !== this.term) {
      assert(term > this.term, () => `term went back from ${this.term} to ${term}`);
      this.term = term;
      this.vote = null;
    }
    this.leader = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    const spread = Math.max(1, Math.round(this.config.electionTicks * this.config.electionJitter));
    this.randomizedElectionTimeout = this.config.electionTicks + this.prng.int(0, spread);
    this.leadTransferee = null;
    this.tracker.resetVotes();
    this.tracker.resetProgress(this.log.lastIndex());
    this.leaderTicks = 0;
    this.leaseRevoked = false;
    this.pendingConfIndex = 0;
    this.termStartIndex = 0;
    this.appendPending = false;
    this.uncommittedBytes = 0;
    this.readOnly.clear();
    this.readsAwaitingTermCommit = [];
  }

  // ---------------------------------------------------------------------------------------------
  // Elections (section 5.2, thesis 9.6 PreVote)

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) this.startupQuiet = false;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup();
    }
  }

  /** A node may campaign only as a voter, and not while it is installing a snapshot. */
  private promotable(): boolean {
    return this.tracker.isVoter(this.id) && this.log.unstableSnapshot() === null;
  }

  private hup(): void {
    if (this.role === 'leader') return;
    if (this.hasUnappliedConfChanges()) return;
    this.campaign(this.config.preVote ? 'preElection' : 'election');
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.log.committed <= this.log.applied) return false;
    return this.log.slice(this.log.applied + 1, this.log.committed + 1).some((e) => e.type === 'conf');
  }

  private campaign(kind: CampaignKind): void {
    if (kind === 'preElection') this.becomePreCandidate();
    else this.becomeCandidate();
    // A pre-vote asks about the term we would move to, without moving there yet.
    const term = kind === 'preElection' ? this.term + 1 : this.term;
    this.tracker.recordVote(this.id, true);
    if (this.tracker.tallyVotes() === 'won') {
      this.wonElection(kind);
      return;
    }
    const type = kind === 'preElection' ? 'MsgPreVote' : 'MsgVote';
    for (const id of this.tracker.voters()) {
      if (id === this.id) continue;
      this.send(
        message({
          type,
          from: this.id,
          to: id,
          term,
          index: this.log.lastIndex(),
          logTerm: this.log.lastTerm(),
          context: kind === 'transfer' ? transferContext : '',
        }),
      );
    }
  }

  private wonElection(kind: CampaignKind): void {
    if (kind === 'preElection') this.campaign('election');
    else this.becomeLeader();
  }

  /** Returns whether stepping should continue after moving to the message's higher term. */
  private stepHigherTerm(m: Message): boolean {
    const isVoteRequest = m.type === 'MsgVote' || m.type === 'MsgPreVote';
    if (isVoteRequest && m.context !== transferContext && this.inLease()) {
      // Thesis 4.2.3: while we hear from a leader, a disruptive candidate is ignored outright.
      return false;
    }
    if (m.type === 'MsgPreVote') return true;
    if (m.type === 'MsgPreVoteResp' && !m.reject) return true;
    const leader = m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap' ? m.from : null;
    this.becomeFollower(m.term, leader);
    return true;
  }

  /**
   * Thesis 4.2.3 / 6.2: a follower that heard from a leader within the minimum election timeout
   * ignores vote requests. The lease ends one tick early: a peer that heard the same heartbeat
   * may time out up to a tick sooner (ticks are not aligned across nodes), and ignoring its
   * pre-vote would cost a whole extra timeout. Lease reads keep their own, larger margin.
   */
  private inLease(): boolean {
    return this.config.checkQuorum && (this.leader !== null || this.startupQuiet) && this.electionElapsed < this.config.electionTicks - 1;
  }

  private stepLowerTerm(m: Message): void {
    if ((this.config.checkQuorum || this.config.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgApp')) {
      // A stale leader (partitioned, then healed) learns of the new term from this answer. With
      // PreVote or CheckQuorum our term may have moved on without the stale leader noticing.
      this.send(message({ type: 'MsgAppResp', from: this.id, to: m.from, term: this.term }));
    } else if (m.type === 'MsgPreVote') {
      this.send(message({ type: 'MsgPreVoteResp', from: this.id, to: m.from, term: this.term, reject: true }));
    }
  }

  private handleVoteRequest(m: Message): void {
    const pre = m.type === 'MsgPreVote';
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.leader === null) ||
      (pre && m.term > this.term && !this.losesPreVoteTie(m)) ||
      this.config.testingBugs?.voteTwice === true;
    const respType = pre ? 'MsgPreVoteResp' : 'MsgVoteResp';
    const upToDate = this.log.isUpToDate(m.index, m.logTerm) || this.config.testingBugs?.skipElectionRestriction === true;
    if (canVote && upToDate) {
      // A granted pre-vote answers in the term the candidate asked about, so it counts there.
      this.send(message({ type: respType, from: this.id, to: m.from, term: m.term }));
      if (!pre) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send(message({ type: respType, from: this.id, to: m.from, term: this.term, reject: true }));
    }
  }

  /**
   * Two followers whose election timers fire within a message delay of each other would both
   * pass the pre-vote, both become candidates, split the vote and wait a whole new timeout.
   * Between two pre-candidates that started within a tick of each other, with equally
   * up-to-date logs, only the lower id is granted. Pre-votes change no state, so this rule
   * cannot affect safety; the loser still grants the winner's real vote, and a pre-campaign
   * that stalled (its requests were ignored) yields to any later one.
   */
  private losesPreVoteTie(m: Message): boolean {
    return (
      this.role === 'preCandidate' &&
      this.electionElapsed <= 1 &&
      m.term === this.term + 1 &&
      m.index === this.log.lastIndex() &&
      m.logTerm === this.log.lastTerm() &&
      m.from > this.id
    );
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'MsgApp':
      case 'MsgHeartbeat':
      case 'MsgSnap':
        // Section 5.2: a leader of our term exists; recognize it.
        this.becomeFollower(m.term, m.from);
        this.stepFollower(m);
        return;
      case 'MsgPreVoteResp':
      case 'MsgVoteResp': {
        const expected = this.role === 'preCandidate' ? 'MsgPreVoteResp' : 'MsgVoteResp';
        if (m.type !== expected) return;
        this.tracker.recordVote(m.from, !m.reject);
        const result = this.tracker.tallyVotes();
        if (result === 'won') this.wonElection(this.role === 'preCandidate' ? 'preElection' : 'election');
        else if (result === 'lost') this.becomeFollower(this.term, null);
        return;
      }
      default:
        return;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Followers (section 5.3, 7)

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'MsgApp':
        this.heardFromLeader(m.from);
        this.handleAppendEntries(m);
        return;
      case 'MsgHeartbeat':
        this.heardFromLeader(m.from);
        this.handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.heardFromLeader(m.from);
        this.handleSnapshot(m);
        return;
      case 'MsgTimeoutNow':
        // Thesis 3.10: the leader asks us to start an election at once, skipping the pre-vote.
        if (this.promotable() && !this.hasUnappliedConfChanges()) this.campaign('transfer');
        return;
      case 'MsgReadIndexResp':
        this.readStates.push({ index: m.index, context: m.context });
        return;
      case 'MsgReadIndex':
        // A follower that believed we lead; it retries on its own timeout.
        return;
      default:
        return;
    }
  }

  private heardFromLeader(leader: NodeId): void {
    this.electionElapsed = 0;
    this.leader = leader;
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      // Everything up to our commit index already matches the leader (Log Matching).
      this.send(message({ type: 'MsgAppResp', from: this.id, to: m.from, term: this.term, index: this.log.committed }));
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.entries);
    if (lastNew !== undefined) {
      this.log.commitTo(Math.min(m.commit, lastNew));
      this.send(message({ type: 'MsgAppResp', from: this.id, to: m.from, term: this.term, index: lastNew }));
      return;
    }
    const hintIndex = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send(
      message({
        type: 'MsgAppResp',
        from: this.id,
        to: m.from,
        term: this.term,
        index: m.index,
        reject: true,
        rejectHint: hintIndex,
        logTerm: this.log.term(hintIndex) ?? 0,
      }),
    );
  }

  private handleHeartbeat(m: Message): void {
    // The leader sends min(our match, its commit), so this never commits an unmatched entry.
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send(message({ type: 'MsgHeartbeatResp', from: this.id, to: m.from, term: this.term, context: m.context, index: m.index }));
  }

  private handleSnapshot(m: Message): void {
    const snapshot = m.snapshot;
    assert(snapshot !== null, 'MsgSnap without a snapshot');
    const { index, term } = snapshot.meta;
    if (index > this.log.committed && !this.log.matchTerm(index, term)) {
      this.log.restore(snapshot);
      this.tracker.setConf(snapshot.meta.conf);
      this.tracker.resetProgress(this.log.lastIndex());
      this.send(message({ type: 'MsgAppResp', from: this.id, to: m.from, term: this.term, index: this.log.lastIndex() }));
      return;
    }
    // Not installed (stale, or we already hold its last entry, so the prefix it covers is
    // committed). Vouch only for the commit index: entries after it may be an old leader's.
    if (index > this.log.committed) this.log.commitTo(index);
    this.send(message({ type: 'MsgAppResp', from: this.id, to: m.from, term: this.term, index: this.log.committed }));
  }

  // ---------------------------------------------------------------------------------------------
  // Leaders (section 5.3, 5.4, 6, 8)

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    this.leaderTicks++;
    if (this.config.checkQuorum && this.leaderTicks - this.tracker.quorumTick(this.id, this.leaderTicks, (pr) => pr.lastActiveTick) >= this.config.electionTicks) {
      // Seed 001: a leader that has not heard from a quorum for an election timeout steps
      // down; no split-brain. By then the majority may already be electing a new leader.
      this.becomeFollower(this.term, null);
      return;
    }
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      // A transfer that did not finish within an election timeout is abandoned (thesis 3.10).
      this.leadTransferee = null;
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat(this.readOnly.lastContext());
      this.tickSnapshots();
    }
  }

  /** A snapshot the follower never acknowledged (lost, or its stream failed) is retried. */
  private tickSnapshots(): void {
    for (const pr of this.tracker.progress.values()) {
      if (pr.state !== 'snapshot') continue;
      pr.snapshotTicks += this.config.heartbeatTicks;
      if (pr.snapshotTicks >= this.config.snapshotTicksMax) pr.becomeProbe();
    }
  }

  private stepLeader(m: Message): void {
    const pr = this.tracker.progress.get(m.from);
    switch (m.type) {
      case 'MsgAppResp':
        if (pr !== undefined) this.handleAppendResponse(m, pr);
        return;
      case 'MsgHeartbeatResp':
        if (pr !== undefined) this.handleHeartbeatResponse(m, pr);
        return;
      case 'MsgReadIndex':
        if (this.tracker.isMember(m.from)) this.leaderReadIndex(m.context, m.from);
        return;
      default:
        return;
    }
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.lastActiveTick = this.leaderTicks;
    if (m.reject) {
      // Back off past the follower's conflicting term in one step when it told us the term.
      const hint = m.logTerm > 0 ? this.log.findConflictByTerm(m.rejectHint, m.logTerm) : m.rejectHint;
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) {
      if (wasPaused && !pr.isPaused()) this.sendAppend(m.from);
      return;
    }
    if (pr.state === 'probe') pr.becomeReplicate();
    else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);
    if (this.maybeCommit()) this.appendPending = true;
    // Pipelining: keep the follower's window full while there is more to send.
    while (this.sendAppend(m.from, false)) {
      /* each call sends one more message */
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.lastActiveTick = this.leaderTicks;
    // The follower echoes the tick at which we sent the heartbeat; it reset its election timer
    // after that moment, so it will refuse other candidates until at least then + timeout.
    pr.heartbeatAckTick = Math.max(pr.heartbeatAckTick, m.index);
    pr.probeSent = false;
    if (pr.state === 'replicate' && pr.inflights.full()) {
      // The follower is alive but the window is full: the appends in it may have been lost.
      // Free one slot so the pipeline moves; a gap makes the follower reject and we probe.
      pr.inflights.freeFirstOne();
    }
    if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
    if (m.context !== '') this.readAcknowledged(m.context, m.from);
  }

  /** Section 5.4.2: only an entry of the current term is committed by counting replicas. */
  private maybeCommit(): boolean {
    const index = this.tracker.committedIndex();
    if (index <= this.log.committed) return false;
    if (this.log.term(index) !== this.term && this.config.testingBugs?.commitOldTermByCounting !== true) return false;
    const previous = this.log.committed;
    this.log.commitTo(index);
    this.releaseUncommittedBytes(previous, index);
    if (this.committedInTerm() && this.readsAwaitingTermCommit.length > 0) {
      const waiting = this.readsAwaitingTermCommit;
      this.readsAwaitingTermCommit = [];
      for (const read of waiting) this.leaderReadIndex(read.context, read.from);
    }
    return true;
  }

  private releaseUncommittedBytes(from: number, to: number): void {
    for (const entry of this.log.slice(from + 1, to + 1)) {
      if (entry.term === this.term) this.uncommittedBytes = Math.max(0, this.uncommittedBytes - entrySize(entry));
    }
  }

  private committedInTerm(): boolean {
    return this.termStartIndex > 0 && this.log.committed >= this.termStartIndex;
  }

  /** The leader's own entries became durable: they count toward the majority now. */
  private leaderSelfStable(): void {
    const self = this.tracker.progress.get(this.id);
    if (self !== undefined && self.maybeUpdate(this.log.stable()) && this.maybeCommit()) this.appendPending = true;
  }

  private appendEntries(entries: readonly Entry[]): void {
    this.log.appendLocal(entries);
    this.appendPending = true;
  }

  private flushAppends(): void {
    if (this.role !== 'leader' || !this.appendPending) return;
    this.appendPending = false;
    for (const id of this.tracker.members()) if (id !== this.id) this.sendAppend(id);
  }

  /**
   * Send the follower what it lacks: entries from its next index (bounded in bytes), or the
   * snapshot when those entries are compacted. Returns whether a message was sent.
   */
  private sendAppend(to: NodeId, sendIfEmpty = true): boolean {
    const pr = this.progressOf(to);
    if (pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined) return this.sendSnapshot(to);
    const hasMore = pr.next <= this.log.lastIndex();
    if (!hasMore && !sendIfEmpty) return false;
    const entries = hasMore ? this.log.slice(pr.next, this.log.lastIndex() + 1, this.config.appendBytesMax, entrySize) : [];
    this.send(message({ type: 'MsgApp', from: this.id, to, term: this.term, index: prevIndex, logTerm: prevTerm, entries, commit: this.log.committed }));
    const last = entries[entries.length - 1];
    if (last !== undefined) pr.sentEntries(last.index, entries.reduce((sum, e) => sum + entrySize(e), 0));
    else if (pr.state === 'probe') pr.probeSent = true;
    return true;
  }

  private sendSnapshot(to: NodeId): boolean {
    const pr = this.progressOf(to);
    const snapshot = this.log.snapshot();
    assert(snapshot !== null && snapshot.meta.index >= this.log.firstIndex() - 1, 'entries were compacted without a snapshot covering them');
    this.send(message({ type: 'MsgSnap', from: this.id, to, term: this.term, snapshot }));
    pr.becomeSnapshot(snapshot.meta.index);
    return true;
  }

  private sendTimeoutNow(to: NodeId): void {
    this.leaseRevoked = true;
    this.send(message({ type: 'MsgTimeoutNow', from: this.id, to, term: this.term }));
  }

  private bcastHeartbeat(context: string): void {
    for (const [id, pr] of this.tracker.progress) {
      if (id === this.id) continue;
      // Never tell a follower to commit beyond what we know it holds (it may not match there).
      const commit = Math.min(pr.match, this.log.committed);
      this.send(message({ type: 'MsgHeartbeat', from: this.id, to: id, term: this.term, commit, context, index: this.leaderTicks }));
    }
  }

  private leaderReadIndex(context: string, from: NodeId): void {
    const respond = (index: number): void => this.answerRead(context, from, index);
    if (!this.committedInTerm()) {
      // Our commit index may lag the previous leader's until the no-op of this term commits.
      this.readsAwaitingTermCommit.push({ context, from });
      return;
    }
    if (this.tracker.voters().length === 1 || (this.config.readMode === 'lease' && this.leaseValid())) {
      respond(this.log.committed);
      return;
    }
    if (this.readOnly.full()) return;
    this.readOnly.add(context, this.log.committed, from, this.id);
    this.bcastHeartbeat(context);
  }

  /**
   * Lease reads: a quorum acknowledged a heartbeat sent at tick `t`, so those voters refuse any
   * other candidate for `electionTicks - 1` of their ticks after receiving it (inLease), which is
   * at least `electionTicks - 2` ticks of time. The leader trusts the lease for one heartbeat
   * interval less than the election timeout, leaving the rest as a margin for clock-rate
   * differences between nodes; past it a read falls back to a ReadIndex round.
   */
  private leaseValid(): boolean {
    if (this.leaseRevoked) return false;
    const acked = this.tracker.quorumTick(this.id, this.leaderTicks, (pr) => pr.heartbeatAckTick);
    return this.leaderTicks - acked < this.config.electionTicks - this.config.heartbeatTicks;
  }

  private readAcknowledged(context: string, from: NodeId): void {
    const acks = this.readOnly.ack(context, from);
    if (acks === undefined || !this.tracker.hasQuorum(acks)) return;
    for (const read of this.readOnly.releaseThrough(context)) this.answerRead(read.context, read.from, read.index);
  }

  private answerRead(context: string, from: NodeId, index: number): void {
    if (from === this.id) this.readStates.push({ index, context });
    else this.send(message({ type: 'MsgReadIndexResp', from: this.id, to: from, term: this.term, index, context }));
  }

  private assertCanPropose(): void {
    if (this.role !== 'leader') throw notLeader(this.id, this.leader);
    if (this.leadTransferee !== null) {
      throw new RaftError('ProposalDropped', `leadership is being transferred to ${this.leadTransferee}; retry on the new leader`, this.leadTransferee);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Membership (thesis section 4.1: one server at a time; takes effect when applied)

  private applyConfChange(change: ConfChange): void {
    this.tracker.apply(change);
    if (this.role !== 'leader') return;
    if (!this.tracker.isVoter(this.id)) {
      // A removed leader steps down; the remaining voters elect a new one.
      this.becomeFollower(this.term, null);
      return;
    }
    if (change.type === 'addLearner') this.tracker.ensureProgress(change.nodeId, this.log.lastIndex());
    if (this.leadTransferee !== null && !this.tracker.isVoter(this.leadTransferee)) this.leadTransferee = null;
    // The majority changed: an entry may now be committed; tell the (new) members either way.
    this.maybeCommit();
    this.appendPending = true;
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private progressOf(id: NodeId): Progress {
    const pr = this.tracker.progress.get(id);
    assert(pr !== undefined, `no progress for member ${id}`);
    return pr;
  }

  private send(m: Message): void {
    this.messages.push(m);
  }

  private softState(): SoftState {
    return { leader: this.leader, role: this.role, term: this.term };
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.leader === b.leader && a.role === b.role && a.term === b.term;
}
