/**
 * The node driver persists its own snapshots beside the Ready loop: while a snapshot is being
 * written (here: held back until the test releases it), proposals keep committing, and the
 * stored log is compacted only after the snapshot is durable. A loaded leader that waited for
 * its snapshot file paused every write for hundreds of milliseconds. The state machine may
 * encode in the background too (snapshotInBackground), and then the snapshot must hold the
 * state of the index it came due at.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapState, type LogStorage, type PersistedState } from '../../src/node/index.js';
import type { Snapshot } from '../../src/raft/index.js';
import { RegisterMachine, encodeCommand } from '../../src/sim/register-machine.js';
import { startSingleVoter, untilLeader } from './single-voter.js';

class HeldSnapshotStorage implements LogStorage {
  readonly events: string[] = [];
  private release: (() => void) | null = null;
  private readonly released: Promise<void> = new Promise((resolve) => (this.release = resolve));

  constructor(private readonly initial: PersistedState) {}

  load(): Promise<PersistedState> {
    return Promise.resolve(this.initial);
  }

  save(): Promise<void> {
    return Promise.resolve();
  }

  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.events.push(`snapshot ${snapshot.meta.index} started`);
    await this.released;
    this.events.push(`snapshot ${snapshot.meta.index} durable`);
  }

  compact(index: number): Promise<void> {
    this.events.push(`compact ${index}`);
    return Promise.resolve();
  }

  letSnapshotsFinish(): void {
    this.release?.();
  }
}

test('proposals commit while a snapshot is written; compaction waits for it', async () => {
  const machine = new RegisterMachine();
  const storage = new HeldSnapshotStorage(bootstrapState(['n1'], machine.snapshot()));
  const node = await startSingleVoter(storage, machine, { snapshotEntries: 10, snapshotTrailingEntries: 2 });
  try {
    await untilLeader(node);
    for (let i = 0; i < 40; i++) await node.propose(encodeCommand({ op: 'put', key: 'k', value: String(i) }));
    assert.equal(storage.events.length, 1, `one snapshot started and none finished: ${storage.events.join(', ')}`);
    assert.match(storage.events[0] ?? '', /^snapshot \d+ started$/);
    storage.letSnapshotsFinish();
    // The finished snapshot is recorded and the log compacted in the background, between
    // Readies; a proposal resolves as soon as it is applied, possibly before. Proposals go on
    // until the next snapshot has come due and started (or give up after 100).
    const eventCount = (): number => storage.events.length;
    for (let i = 40; i < 140 && eventCount() < 4; i++) await node.propose(encodeCommand({ op: 'put', key: 'k', value: String(i) }));
    const events = [...storage.events];
    const [started, durable, compacted] = events;
    const index = Number(/\d+/.exec(started ?? '')?.[0]);
    assert.equal(durable, `snapshot ${index} durable`);
    assert.equal(compacted, `compact ${index - 2}`, 'the log is compacted behind the durable snapshot, keeping the trailing entries');
    assert.ok(events.length >= 4, `a later snapshot was taken once the first finished: ${events.join(', ')}`);
  } finally {
    node.stop();
  }
});

/** Storage that keeps what it is given and persists at once. */
class RecordingStorage implements LogStorage {
  readonly snapshots: Snapshot[] = [];
  readonly compactions: number[] = [];

  constructor(private readonly initial: PersistedState) {}

  load(): Promise<PersistedState> {
    return Promise.resolve(this.initial);
  }

  save(): Promise<void> {
    return Promise.resolve();
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.snapshots.push(snapshot);
    return Promise.resolve();
  }

  compact(index: number): Promise<void> {
    this.compactions.push(index);
    return Promise.resolve();
  }
}

test('a snapshot encoded in the background holds the state of its index, not of when it was done', async () => {
  const held: (() => void)[] = [];
  const machine = new RegisterMachine((done) => held.push(done));
  const storage = new RecordingStorage(bootstrapState(['n1'], machine.snapshot()));
  const node = await startSingleVoter(storage, machine, { snapshotEntries: 10, snapshotTrailingEntries: 2 });
  try {
    await untilLeader(node);
    for (let i = 0; i < 40; i++) await node.propose(encodeCommand({ op: 'put', key: `k${i}`, value: 'v' }));
    assert.equal(held.length, 1, 'one encoding under way while 40 proposals commit');
    assert.equal(storage.snapshots.length, 0, 'nothing persisted before the encoding is done');
    held[0]?.();
    for (let i = 40; i < 45; i++) await node.propose(encodeCommand({ op: 'put', key: `k${i}`, value: 'v' }));
    const [snapshot] = storage.snapshots;
    assert.ok(snapshot !== undefined, 'the snapshot was persisted once encoded');
    const keys = (JSON.parse(new TextDecoder().decode(snapshot.data)) as [string, string][]).map(([key]) => key);
    // Index 1 is the bootstrap snapshot and index 2 the leader's no-op: puts start at index 3.
    assert.deepEqual(keys.sort(), Array.from({ length: snapshot.meta.index - 2 }, (_, i) => `k${i}`).sort());
    assert.ok(keys.length < 40, `taken at the point it came due (${keys.length} keys), not at release`);
    assert.equal(storage.compactions[0], snapshot.meta.index - 2, 'compacted behind the snapshot, keeping the trailing entries');
  } finally {
    node.stop();
  }
});
