/**
 * A one-voter RaftNode with the production driver, the system clock and no peers, on whatever
 * storage a test gives it: the driver's own behaviour (persisting, snapshots, restarts) without
 * a network.
 */
import assert from 'node:assert/strict';
import { RaftNode, systemClock, type LogStorage } from '../../src/node/index.js';
import type { RaftConfig } from '../../src/raft/index.js';
import type { RegisterMachine, RegisterResult } from '../../src/sim/register-machine.js';
import { Prng } from '../../src/util/prng.js';

export function startSingleVoter(storage: LogStorage, machine: RegisterMachine, raft: Partial<RaftConfig>): Promise<RaftNode<RegisterResult>> {
  return RaftNode.start<RegisterResult>({ id: 'n1', storage, transport: { send: () => undefined }, clock: systemClock, stateMachine: machine, prng: new Prng(1), raft });
}

/** Resolves once the single voter has elected itself (within 5 s). */
export async function untilLeader(node: RaftNode<RegisterResult>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (node.basicStatus().role !== 'leader') {
    assert.ok(Date.now() < deadline, 'a single voter elects itself');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
