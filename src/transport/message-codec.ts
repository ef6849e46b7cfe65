/**
 * Raft messages on the wire. Fields are copied by name, never spread: entries recovered from
 * the WAL expose `data` through a prototype getter (storage/codec.ts), which a spread or a
 * generic encoder would silently drop. Entries travel as tuples because they dominate MsgApp
 * and a tuple spends no bytes on key names; messages are maps, which keeps them readable and
 * lets a later version add fields.
 */
import { entrySize, type ConfChange, type Entry, type Message, type MessageType, type Snapshot } from '../raft/index.js';
import { asBytes, asCount, asFlag, asList, asRecord, asText, protocolError } from './wire-values.js';

type WireEntry = readonly [index: number, term: number, data: Uint8Array] | readonly [index: number, term: number, change: string, nodeId: string];

interface WireSnapshot {
  readonly index: number;
  readonly term: number;
  readonly voters: readonly string[];
  readonly learners: readonly string[];
  readonly data: Uint8Array;
}

interface WireMessage {
  readonly type: MessageType;
  readonly from: string;
  readonly to: string;
  readonly term: number;
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly WireEntry[];
  readonly commit: number;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly context: string;
  readonly snapshot: WireSnapshot | null;
}

// Records keyed by every member of the union, so adding a message type or change type to the
// core fails to compile here until the wire knows it.
const messageTypes: Readonly<Record<MessageType, true>> = {
  MsgApp: true,
  MsgAppResp: true,
  MsgPreVote: true,
  MsgPreVoteResp: true,
  MsgVote: true,
  MsgVoteResp: true,
  MsgHeartbeat: true,
  MsgHeartbeatResp: true,
  MsgSnap: true,
  MsgReadIndex: true,
  MsgReadIndexResp: true,
  MsgTimeoutNow: true,
  MsgTransferLeader: true,
};
const changeTypes: Readonly<Record<ConfChange['type'], true>> = { addLearner: true, promote: true, remove: true };

const noData = new Uint8Array(0);

function encodeEntry(e: Entry): WireEntry {
  return e.type === 'normal' ? [e.index, e.term, e.data] : [e.index, e.term, e.change.type, e.change.nodeId];
}

function encodeSnapshot(s: Snapshot, withData: boolean): WireSnapshot {
  const { index, term, conf } = s.meta;
  return { index, term, voters: [...conf.voters], learners: [...conf.learners], data: withData ? s.data : noData };
}

/**
 * The wire form of a message. A streamed snapshot's data travels in chunks, so its header
 * message leaves the data out (`withSnapshotData` false).
 */
export function encodeMessage(m: Message, withSnapshotData = true): WireMessage {
  return {
    type: m.type,
    from: m.from,
    to: m.to,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    entries: m.entries.map(encodeEntry),
    commit: m.commit,
    reject: m.reject,
    rejectHint: m.rejectHint,
    context: m.context,
    snapshot: m.snapshot === null ? null : encodeSnapshot(m.snapshot, withSnapshotData),
  };
}

function decodeEntry(value: unknown): Entry {
  const t = asList(value, 'an entry');
  const index = asCount(t[0], 'entry index');
  const term = asCount(t[1], 'entry term');
  if (t.length === 3) return { type: 'normal', index, term, data: asBytes(t[2], 'entry data') };
  const change = asText(t[2], 'conf change type');
  if (t.length !== 4 || !Object.hasOwn(changeTypes, change)) throw protocolError(`an entry has an unknown shape or change type "${change}"`);
  return { type: 'conf', index, term, change: { type: change as ConfChange['type'], nodeId: asText(t[3], 'conf change node id') } };
}

function decodeSnapshot(value: unknown): Snapshot {
  const s = asRecord(value, 'a snapshot');
  const ids = (v: unknown, what: string): string[] => asList(v, what).map((id) => asText(id, what));
  return {
    meta: {
      index: asCount(s['index'], 'snapshot index'),
      term: asCount(s['term'], 'snapshot term'),
      conf: { voters: ids(s['voters'], 'snapshot voters'), learners: ids(s['learners'], 'snapshot learners') },
    },
    data: asBytes(s['data'], 'snapshot data'),
  };
}

export function decodeMessage(value: unknown): Message {
  const m = asRecord(value, 'a raft message');
  const type = asText(m['type'], 'message type');
  if (!Object.hasOwn(messageTypes, type)) throw protocolError(`unknown raft message type "${type}"`);
  return {
    type: type as MessageType,
    from: asText(m['from'], 'message from'),
    to: asText(m['to'], 'message to'),
    term: asCount(m['term'], 'message term'),
    logTerm: asCount(m['logTerm'], 'message logTerm'),
    index: asCount(m['index'], 'message index'),
    entries: asList(m['entries'], 'message entries').map(decodeEntry),
    commit: asCount(m['commit'], 'message commit'),
    reject: asFlag(m['reject'], 'message reject'),
    rejectHint: asCount(m['rejectHint'], 'message rejectHint'),
    context: asText(m['context'], 'message context'),
    snapshot: m['snapshot'] === null ? null : decodeSnapshot(m['snapshot']),
  };
}

/** Estimated bytes a queued message costs: its entries' payloads plus a fixed header. */
export function messageBytes(m: Message): number {
  return m.entries.reduce((bytes, e) => bytes + entrySize(e), 96);
}
