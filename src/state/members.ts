/**
 * The member registry: where each cluster member can be reached. Raft's configuration knows
 * only member ids; the addresses live here, in the replicated state, so that every node (and
 * every future leader) can dial a member that joined while it was not looking. A member's
 * entry is written before the membership change that adds it, and dropped when the change
 * that removes it is applied.
 */
import { kvFailure, type KvFailure } from './types.js';

export interface Member {
  readonly id: string;
  /** host:port of the peer (Raft) listener. */
  readonly peerAddress: string;
  /** host:port of the HTTP API. */
  readonly apiAddress: string;
  /**
   * 'keep-odd' (nodes joined with `quorate cluster join`): promoted only when that leaves an
   * odd number of voters (seed 002: never stop at 2). Absent: promoted as soon as caught up
   * (seed 001's late library node, seed 002's TOML learner, `join --promote now`).
   */
  readonly promotion?: 'keep-odd';
  /**
   * An arbiter (seed 003 option 2): a voter that stores the log but has no API, runs no jobs
   * and hands leadership to a data node; its apiAddress is its shared listener.
   */
  readonly arbiter?: true;
}

export interface MemberSetRequest extends Member {
  readonly op: 'memberSet';
}

export interface MemberSetResponse {
  readonly ok: true;
  readonly kind: 'memberSet';
}

/** Host names, IPv4/IPv6 literals and ports only: these strings end up in connect() calls. */
const addressPattern = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/;
const idPattern = /^[A-Za-z0-9._-]{1,64}$/;

export function memberProblem(member: Member): string | null {
  if (!idPattern.test(member.id)) return `member id ${JSON.stringify(member.id)} must be 1-64 letters, digits, '.', '_' or '-'`;
  for (const [field, value] of [['peerAddress', member.peerAddress], ['apiAddress', member.apiAddress]] as const) {
    if (!addressPattern.test(value)) return `${field} ${JSON.stringify(value)} must be host:port`;
  }
  return null;
}

export class MemberRegistry {
  private readonly byId = new Map<string, Member>();

  get(id: string): Member | undefined {
    return this.byId.get(id);
  }

  /** Every member, in id order (the order snapshots and status use). */
  list(): Member[] {
    return [...this.byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  set(request: MemberSetRequest): MemberSetResponse | KvFailure {
    const member: Member = {
      id: request.id,
      peerAddress: request.peerAddress,
      apiAddress: request.apiAddress,
      ...(request.promotion === 'keep-odd' ? { promotion: request.promotion } : {}),
      ...(request.arbiter === true ? { arbiter: true as const } : {}),
    };
    const problem = memberProblem(member);
    if (problem !== null) return kvFailure('invalid_argument', problem);
    this.byId.set(member.id, member);
    return { ok: true, kind: 'memberSet' };
  }

  remove(id: string): void {
    this.byId.delete(id);
  }

  replace(members: readonly Member[]): void {
    this.byId.clear();
    for (const member of members) this.byId.set(member.id, member);
  }
}
