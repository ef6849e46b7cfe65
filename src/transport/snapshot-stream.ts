/**
 * Snapshots travel as a stream of chunk frames, so that a snapshot far larger than a frame can
 * be sent, and so that raft batches still get through between its chunks (heartbeats keep the
 * follower from starting an election while a large snapshot is on its way).
 *
 * The sender writes one chunk at a time and waits for the socket to drain whenever it is
 * full, so memory stays at about one chunk per stream. The receiver checks the declared size
 * against its limit before allocating, checks that chunks arrive in order, and delivers one
 * MsgSnap with the whole data.
 */
import { constants as bufferConstants } from 'node:buffer';
import type { Message } from '../raft/index.js';
import { assert } from '../util/assert.js';
import { QuorateError } from '../util/errors.js';
import type { Connection } from './connection.js';
import type { TransportLimits } from './limits.js';
import type { SnapshotChunkFrame } from './protocol.js';
import { protocolError } from './wire-values.js';

/** Write `m`'s snapshot to `conn` in chunks; resolves with its size once the last is written. */
export async function streamSnapshot(conn: Connection, m: Message, stream: number, limits: TransportLimits, onFrame: () => void): Promise<number> {
  assert(m.snapshot !== null, 'a snapshot stream for a message without a snapshot');
  const data = m.snapshot.data;
  const totalBytes = data.byteLength;
  if (totalBytes > limits.snapshotBytesMax) {
    throw new QuorateError('snapshot_too_large', `a snapshot of ${totalBytes} bytes exceeds snapshotBytesMax (${limits.snapshotBytesMax} bytes)`);
  }
  let offset = 0;
  let seq = 0;
  do {
    const end = Math.min(offset + limits.snapshotChunkBytes, totalBytes);
    const chunk: SnapshotChunkFrame = { kind: 'snapshot', stream, seq, totalBytes, last: end === totalBytes, header: seq === 0 ? m : null, data: data.subarray(offset, end) };
    const room = conn.send(chunk);
    onFrame();
    if (!room) await conn.drained();
    offset = end;
    seq++;
  } while (offset < totalBytes);
  return totalBytes;
}

interface Assembly {
  readonly stream: number;
  readonly header: Message;
  readonly data: Uint8Array;
  received: number;
  nextSeq: number;
}

/** How far the snapshot being received has come (a joining node reports it; `cluster join` shows it). */
export interface SnapshotProgress {
  readonly receivedBytes: number;
  readonly totalBytes: number;
}

/** Reassembles the snapshot streams arriving on one connection (one stream at a time). */
export class SnapshotAssembler {
  private current: Assembly | null = null;

  constructor(private readonly snapshotBytesMax: number) {}

  /** The unfinished stream's progress; null between streams. */
  progress(): SnapshotProgress | null {
    const a = this.current;
    return a === null ? null : { receivedBytes: a.received, totalBytes: a.data.byteLength };
  }

  /** Add a chunk; returns the complete MsgSnap after the last one. Throws on a broken stream. */
  push(chunk: SnapshotChunkFrame): Message | null {
    // A new stream replaces an unfinished one: its sender gave up on it.
    if (chunk.seq === 0) this.current = this.begin(chunk);
    const a = this.current;
    if (a?.stream !== chunk.stream || chunk.seq !== a.nextSeq) {
      throw protocolError(`snapshot chunk ${chunk.seq} of stream ${chunk.stream} arrived out of order (expected ${a === null ? 'a new stream' : `chunk ${a.nextSeq} of stream ${a.stream}`})`);
    }
    if (a.received + chunk.data.byteLength > a.data.byteLength) throw protocolError(`snapshot stream ${a.stream} sent more than the ${a.data.byteLength} bytes it announced`);
    a.data.set(chunk.data, a.received);
    a.received += chunk.data.byteLength;
    a.nextSeq++;
    if (!chunk.last) return null;
    this.current = null;
    if (a.received !== a.data.byteLength) throw protocolError(`snapshot stream ${a.stream} ended after ${a.received} of ${a.data.byteLength} bytes`);
    const snapshot = a.header.snapshot;
    assert(snapshot !== null, 'a snapshot stream header without a snapshot');
    return { ...a.header, snapshot: { meta: snapshot.meta, data: a.data } };
  }

  private begin(chunk: SnapshotChunkFrame): Assembly {
    if (chunk.header === null) throw protocolError(`snapshot stream ${chunk.stream} starts without its MsgSnap header`);
    const limitBytes = Math.min(this.snapshotBytesMax, bufferConstants.MAX_LENGTH);
    if (chunk.totalBytes > limitBytes) {
      throw new QuorateError(
        'snapshot_too_large',
        `the peer offered a snapshot of ${chunk.totalBytes} bytes, more than this node accepts (${limitBytes} bytes: snapshotBytesMax or the runtime's buffer limit)`,
      );
    }
    return { stream: chunk.stream, header: chunk.header, data: new Uint8Array(chunk.totalBytes), received: 0, nextSeq: 0 };
  }
}
