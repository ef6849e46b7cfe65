/**
 * The vocabulary of the consensus core, named after the Raft paper (Ongaro and Ousterhout,
 * "In Search of an Understandable Consensus Algorithm", extended version) and etcd-io/raft.
 * Everything here is plain data so that it can be persisted, sent and compared.
 */

export type NodeId = string;

/** A membership change, applied one server at a time (paper section 6, thesis section 4.1). */
export type ConfChange =
  | { readonly type: 'addLearner'; readonly nodeId: NodeId }
  | { readonly type: 'promote'; readonly nodeId: NodeId }
  | { readonly type: 'remove'; readonly nodeId: NodeId };

export interface NormalEntry {
  readonly type: 'normal';
  readonly index: number;
  readonly term: number;
  /** Application data. An empty array is the no-op a new leader appends (section 8). */
  readonly data: Uint8Array;
}

export interface ConfChangeEntry {
  readonly type: 'conf';
  readonly index: number;
  readonly term: number;
  readonly change: ConfChange;
}

export type Entry = NormalEntry | ConfChangeEntry;

/** The voting configuration: voters decide, learners only receive the log. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** The configuration after `change` (validated by the caller); ids come out sorted. */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState {
  const voters = new Set(conf.voters);
  const learners = new Set(conf.learners);
  const id = change.nodeId;
  switch (change.type) {
    case 'addLearner':
      learners.add(id);
      break;
    case 'promote':
      learners.delete(id);
      voters.add(id);
      break;
    case 'remove':
      learners.delete(id);
      voters.delete(id);
      break;
  }
  return { voters: [...voters].sort(), learners: [...learners].sort() };
}

/** State that must be durable before any message that depends on it is sent (Figure 2). */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

export interface SnapshotMeta {
  /** The last log index the snapshot covers. */
  readonly index: number;
  readonly term: number;
  readonly conf: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The serialized application state machine. */
  readonly data: Uint8Array;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export type MessageType =
  | 'MsgApp'
  | 'MsgAppResp'
  | 'MsgPreVote'
  | 'MsgPreVoteResp'
  | 'MsgVote'
  | 'MsgVoteResp'
  | 'MsgHeartbeat'
  | 'MsgHeartbeatResp'
  | 'MsgSnap'
  | 'MsgReadIndex'
  | 'MsgReadIndexResp'
  | 'MsgTimeoutNow'
  | 'MsgTransferLeader';

/**
 * One message between peers. Fields that a message type does not use are zero or absent;
 * `term` is 0 only for messages that are local to a node (none leave the core that way).
 */
export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** MsgApp: term of the entry at `index`. Votes: term of the candidate's last entry. */
  readonly logTerm: number;
  /** MsgApp: index preceding `entries`. MsgAppResp: last matched index or rejected index. */
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  /** MsgAppResp with reject: the follower's last index, a hint for backing off quickly. */
  readonly rejectHint: number;
  /** Read requests: an opaque request id echoed back with the ReadIndex. */
  readonly context: string;
  readonly snapshot: Snapshot | null;
}

/** A linearizable read point: once `index` is applied, a read for `context` may be served. */
export interface ReadState {
  readonly index: number;
  readonly context: string;
}

/** Volatile state; `term` is the term the role and leader belong to. */
export interface SoftState {
  readonly leader: NodeId | null;
  readonly role: Role;
  readonly term: number;
}

/**
 * What the node driver must do, in order: persist `hardState`, `entries` and `snapshot`
 * durably; then send `messages`; then restore `snapshot` into the state machine (if any) and
 * apply `committedEntries`; then call `advance()`.
 *
 * The leader's requests to followers (see `sendableBeforePersist`) may go out before the
 * writes are durable, so the leader's fsync overlaps the followers' (thesis section 10.2.1):
 * the leader counts its own entries toward a majority only once `advance()` says they are
 * durable. Answers to heartbeats may too: they promise nothing durable, only that their sender
 * is alive in this term (etcd-io/raft sends them before its writes are durable as well). Other
 * responses and votes must wait: they promise state that must survive a crash. Heartbeats and
 * their answers queued after this Ready may also be sent before it is persisted
 * (`Raft.takeHeartbeats`).
 *
 * Committed entries that are not among this Ready's `entries` (durable since an earlier Ready)
 * may be applied before the writes finish, when there is no `snapshot`: applying a committed
 * entry depends on nothing this Ready writes. Those among `entries` wait for them.
 */
export interface Ready {
  readonly softState: SoftState | null;
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
  /** Whether the durable writes must be fsynced before the messages go out. */
  readonly mustSync: boolean;
  readonly messages: readonly Message[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  /**
   * Once the committed entries are applied, the core wants a snapshot of the state machine:
   * the driver passes it to `compact()`, which also drops the log prefix it covers.
   */
  readonly snapshotDue: boolean;
}

export function sendableBeforePersist(m: Message): boolean {
  return m.type === 'MsgApp' || isHeartbeat(m) || m.type === 'MsgSnap' || m.type === 'MsgTimeoutNow';
}

/** A leader's heartbeat or a follower's answer to one (see `Raft.takeHeartbeats`). */
export function isHeartbeat(m: Message): boolean {
  return m.type === 'MsgHeartbeat' || m.type === 'MsgHeartbeatResp';
}

/** A message with defaults for every field the sender leaves out. */
export function message(fields: Pick<Message, 'type' | 'from' | 'to' | 'term'> & Partial<Message>): Message {
  return {
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: '',
    snapshot: null,
    ...fields,
  };
}

/** Bytes an entry costs for flow control: its payload plus a fixed header estimate. */
export function entrySize(entry: Entry): number {
  return entry.type === 'normal' ? entry.data.byteLength + 24 : 48;
}
