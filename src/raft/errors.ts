/**
 * Expected conditions of the consensus core. Each carries a code that callers switch on and a
 * message that tells a user what to do about it.
 */
import { QuorateError } from '../util/errors.js';
import type { NodeId } from './types.js';

export type RaftErrorCode =
  | 'NotLeader'
  | 'ProposalDropped'
  | 'ConfChangePending'
  | 'ConfChangeInvalid'
  | 'TransferInProgress'
  | 'TransferInvalid'
  | 'ReadUnavailable';

export class RaftError extends QuorateError<RaftErrorCode> {
  constructor(
    code: RaftErrorCode,
    message: string,
    /** The leader this node knows of, so a client can retry there. */
    readonly leader: NodeId | null = null,
  ) {
    super(code, message);
    this.name = 'RaftError';
  }
}

export function notLeader(self: NodeId, leader: NodeId | null): RaftError {
  const hint = leader === null ? 'no leader is known yet; retry shortly' : `retry on the leader ${leader}`;
  return new RaftError('NotLeader', `node ${self} is not the leader: ${hint}`, leader);
}
