/**
 * Send a request to wherever the leader is. Any node accepts any request (issue 4): the
 * leader runs it itself, a follower forwards it over the peer transport. While there is no
 * leader, or leadership moves under the request, it is retried until the request deadline;
 * only failures that prove the request did not take effect are retried, so a write is never
 * applied twice. What is left is translated into the service's error codes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RaftError } from '../raft/index.js';
import { QuorateError, isQuorateError } from '../util/errors.js';
import type { ServiceErrorCode } from './service.js';

/** How long to wait before looking for the leader again. */
const retryDelayMs = 20;

export interface LeaderRouteContext {
  readonly id: string;
  /** The leader as this node knows it, null during an election. */
  leader(): string | null;
  isStopped(): boolean;
  now(): number;
}

export function serviceError(code: ServiceErrorCode, message: string): QuorateError<ServiceErrorCode> {
  return new QuorateError(code, message);
}

/**
 * Codes that prove the request never took effect: the node was not leader when it was
 * proposed, or a new leader's entry replaced it; the transport could not deliver it.
 */
const provablyNotApplied = new Set(['NotLeader', 'ProposalDropped', 'ReadUnavailable', 'not_leader', 'unreachable', 'ConfChangePending', 'TransferInProgress']);

export async function routeToLeader<T>(
  ctx: LeaderRouteContext,
  deadline: number,
  local: () => Promise<T>,
  remote: (leader: string) => Promise<T>,
): Promise<T> {
  let lastProblem = 'no leader is known';
  for (;;) {
    if (ctx.isStopped()) throw serviceError('unavailable', `node ${ctx.id} is stopping`);
    const leader = ctx.leader();
    if (leader !== null) {
      try {
        return await (leader === ctx.id ? local() : remote(leader));
      } catch (error) {
        if (!isQuorateError(error) || !provablyNotApplied.has(error.code)) throw translate(error, ctx.id);
        lastProblem = error.message;
      }
    }
    const remaining = deadline - ctx.now();
    if (remaining <= 0) throw serviceError('no_quorum', `the cluster could not commit the request in time (${lastProblem}); check that a majority of the voters is up and connected`);
    await sleep(Math.min(retryDelayMs, remaining));
  }
}

/** Map the node's and the transport's error codes onto the service's. */
export function translate(error: unknown, id: string): unknown {
  if (!isQuorateError(error)) return error;
  switch (error.code) {
    case 'Timeout':
    case 'timeout':
      return serviceError('no_quorum', `the request did not commit in time, so it may or may not have taken effect: ${error.message}`);
    case 'OutcomeUnknown':
      return serviceError('outcome_unknown', error.message);
    case 'Stopped':
      return serviceError('unavailable', `node ${id} is stopping`);
    case 'NotLeader':
      return new QuorateError('not_leader', error.message);
    default:
      return error instanceof RaftError ? new QuorateError(error.code, error.message) : error;
  }
}
