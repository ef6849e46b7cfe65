/**
 * The frames of the peer protocol. Every connection starts with a hello in each direction;
 * after that the dialing side sends raft batches, snapshot chunks and requests, and the
 * listening side sends responses. Either side pings when it has had nothing to send for a
 * while, so that silence means a dead peer.
 */
import type { Message } from '../raft/index.js';
import { decodeMessage, encodeMessage } from './message-codec.js';
import { asBytes, asCount, asFlag, asList, asRecord, asText, protocolError } from './wire-values.js';

/** Bumped on any incompatible change; peers with another version are refused at hello. */
export const protocolVersion = 1;

export interface HelloFrame {
  readonly kind: 'hello';
  readonly nodeId: string;
  readonly clusterId: string;
  readonly version: number;
}

/** Raft messages queued for one peer: all of one tick's, or about 1 MiB of a backlog (peer.ts). */
export interface RaftFrame {
  readonly kind: 'raft';
  readonly messages: readonly Message[];
}

export interface PingFrame {
  readonly kind: 'ping';
}

export interface RequestFrame {
  readonly kind: 'request';
  readonly id: number;
  readonly method: string;
  readonly body: unknown;
}

export type ResponseFrame =
  | { readonly kind: 'response'; readonly id: number; readonly ok: true; readonly body: unknown }
  | { readonly kind: 'response'; readonly id: number; readonly ok: false; readonly code: string; readonly message: string };

/**
 * One piece of a streamed MsgSnap. The first chunk (seq 0) carries the message without its
 * snapshot data; the receiver fills the data in from the chunks.
 */
export interface SnapshotChunkFrame {
  readonly kind: 'snapshot';
  readonly stream: number;
  readonly seq: number;
  readonly totalBytes: number;
  readonly last: boolean;
  readonly header: Message | null;
  readonly data: Uint8Array;
}

export type Frame = HelloFrame | RaftFrame | PingFrame | RequestFrame | ResponseFrame | SnapshotChunkFrame;

/** The msgpack-able form of a frame. */
export function frameToWire(frame: Frame): unknown {
  switch (frame.kind) {
    case 'raft':
      return { kind: frame.kind, messages: frame.messages.map((m) => encodeMessage(m)) };
    case 'snapshot':
      return { ...snapshotChunkHead(frame), data: frame.data };
    default:
      return frame;
  }
}

/**
 * A snapshot chunk's wire form without its data, which comes last (frame-codec.ts
 * encodeFrameWithTail writes it uncopied).
 */
export function snapshotChunkHead(frame: SnapshotChunkFrame): Readonly<Record<string, unknown>> {
  return {
    kind: frame.kind,
    stream: frame.stream,
    seq: frame.seq,
    totalBytes: frame.totalBytes,
    last: frame.last,
    header: frame.header === null ? null : encodeMessage(frame.header, false),
  };
}

export function frameFromWire(value: unknown): Frame {
  const f = asRecord(value, 'a frame');
  const kind = asText(f['kind'], 'frame kind');
  switch (kind) {
    case 'hello':
      return { kind, nodeId: asText(f['nodeId'], 'hello nodeId'), clusterId: asText(f['clusterId'], 'hello clusterId'), version: asCount(f['version'], 'hello version') };
    case 'raft':
      return { kind, messages: asList(f['messages'], 'raft messages').map(decodeMessage) };
    case 'ping':
      return { kind };
    case 'request':
      return { kind, id: asCount(f['id'], 'request id'), method: asText(f['method'], 'request method'), body: f['body'] };
    case 'response':
      return responseFromWire(f);
    case 'snapshot':
      return snapshotChunkFromWire(f);
    default:
      throw protocolError(`unknown frame kind "${kind}"`);
  }
}

function responseFromWire(f: Readonly<Record<string, unknown>>): ResponseFrame {
  const id = asCount(f['id'], 'response id');
  if (asFlag(f['ok'], 'response ok')) return { kind: 'response', id, ok: true, body: f['body'] };
  return { kind: 'response', id, ok: false, code: asText(f['code'], 'response code'), message: asText(f['message'], 'response message') };
}

function snapshotChunkFromWire(f: Readonly<Record<string, unknown>>): SnapshotChunkFrame {
  const header = f['header'] === null ? null : decodeMessage(f['header']);
  if (header !== null && (header.type !== 'MsgSnap' || header.snapshot === null)) throw protocolError('a snapshot stream header is not a MsgSnap with a snapshot');
  return {
    kind: 'snapshot',
    stream: asCount(f['stream'], 'snapshot stream'),
    seq: asCount(f['seq'], 'snapshot chunk seq'),
    totalBytes: asCount(f['totalBytes'], 'snapshot totalBytes'),
    last: asFlag(f['last'], 'snapshot chunk last'),
    header,
    data: asBytes(f['data'], 'snapshot chunk data'),
  };
}

/** Why a peer's hello is refused, or null when it is acceptable. */
export function helloMismatch(hello: HelloFrame, expected: { readonly clusterId: string; readonly certCommonName: string | null; readonly nodeId: string | null }): string | null {
  if (hello.version !== protocolVersion) return `the peer speaks protocol version ${hello.version}, this node speaks ${protocolVersion}`;
  if (hello.clusterId !== expected.clusterId) return `the peer belongs to cluster "${hello.clusterId}", not "${expected.clusterId}"`;
  if (hello.nodeId !== expected.certCommonName) {
    return `the peer says it is node "${hello.nodeId}" but its certificate was issued to "${expected.certCommonName ?? '(no common name)'}"`;
  }
  if (expected.nodeId !== null && hello.nodeId !== expected.nodeId) return `expected node "${expected.nodeId}" at this address, found node "${hello.nodeId}"`;
  return null;
}
