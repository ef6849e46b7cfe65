/**
 * Membership automation on the leader (seed 002): a node asks to join, the leader records its
 * addresses in the member registry and adds it as a learner (it then catches up by snapshot
 * and log without counting in any quorum), and once its log is nearly the leader's, promotes
 * it to voter. One change at a time: the core refuses a second while one is pending.
 */
import type { RaftNode } from '../node/index.js';
import type { RaftStatus } from '../raft/index.js';
import { encodeMemberCommand, memberProblem, type ClusterApplyResult, type Member, type MemberRegistry } from '../state/index.js';
import { QuorateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';

/**
 * A learner is promoted once its match index is within this fraction of the leader's last
 * index (etcd's learner readiness rule), so a promotion does not stall commits while the new
 * voter catches up on a long tail.
 */
const promoteMatchFraction = 0.9;

export interface MembershipContext {
  readonly raft: RaftNode<ClusterApplyResult>;
  readonly members: MemberRegistry;
  readonly log: Logger;
  /** Replicate an encoded command through the leader (used for the registry entry). */
  propose(data: Uint8Array): Promise<unknown>;
  /** `two_node = true` in the fencing setup: a second voter is what the operator asked for. */
  twoNode(): boolean;
  /** Counts the learners added and promoted here (metrics.ts). */
  readonly metrics: { memberJoined(): void; memberPromoted(): void };
}

export class Membership {
  private promoting = false;

  constructor(private readonly ctx: MembershipContext) {}

  /** Run on the leader for a node that asks to join. Idempotent: a member asking again is fine. */
  async join(member: Member): Promise<{ readonly learner: boolean }> {
    const problem = memberProblem(member);
    if (problem !== null) throw new QuorateError('bad_request', `join refused: ${problem}`);
    const status = this.ctx.raft.status();
    if (status.role !== 'leader') throw new QuorateError('not_leader', `node ${status.id} is not the leader`);
    const known = this.ctx.members.get(member.id);
    const inConf = status.conf.voters.includes(member.id) || status.conf.learners.includes(member.id);
    if (inConf && known !== undefined && known.peerAddress !== member.peerAddress) {
      throw new QuorateError('member_exists', `a member with id ${member.id} already exists at ${known.peerAddress}; remove it first or use another id`);
    }
    if (known?.peerAddress !== member.peerAddress || known.apiAddress !== member.apiAddress) {
      // The promotion policy and the arbiter flag were chosen at admission; asking again changes neither.
      const promotion = known?.promotion ?? member.promotion;
      const arbiter = known?.arbiter ?? member.arbiter;
      await this.ctx.propose(
        encodeMemberCommand({ op: 'memberSet', id: member.id, peerAddress: member.peerAddress, apiAddress: member.apiAddress, ...(promotion === undefined ? {} : { promotion }), ...(arbiter === undefined ? {} : { arbiter }) }),
      );
    }
    if (!inConf) {
      await this.ctx.raft.proposeConfChange({ type: 'addLearner', nodeId: member.id });
      this.ctx.metrics.memberJoined();
      this.ctx.log.log('info', 'member added as learner', { member: member.id, address: member.peerAddress });
    }
    return { learner: !status.conf.voters.includes(member.id) };
  }

  /**
   * Called periodically on the leader: promote one caught-up learner. A learner that keeps the
   * voter count odd waits while the count is odd until a second one has caught up too; then
   * the first promotion makes the count even and the next round promotes the other, so the
   * cluster goes from 1 to 3 voters without settling at 2 (seed 002) — unless the cluster is
   * set up as a two-node cluster (two_node = true), where two voters is the point.
   */
  maybePromote(): void {
    if (this.promoting) return;
    const status = this.ctx.raft.status();
    if (status.role !== 'leader') return;
    const caughtUp = status.conf.learners.filter((id) => isCaughtUp(status, id));
    const votersOdd = status.conf.voters.length % 2 === 1;
    const keepsOdd = (id: string): boolean => this.ctx.members.get(id)?.promotion === 'keep-odd';
    const pairWanted = this.ctx.twoNode() && status.conf.voters.length === 1;
    const ready = caughtUp.find((id) => !keepsOdd(id)) ?? (votersOdd && caughtUp.length < 2 && !pairWanted ? undefined : caughtUp[0]);
    if (ready === undefined) return;
    this.promoting = true;
    void this.promote(ready).finally(() => (this.promoting = false));
  }

  /** Run on the leader: remove a member through the log (quorum needed). The leader itself leaves with `leave`. */
  async remove(id: string): Promise<void> {
    const status = this.ctx.raft.status();
    if (status.role !== 'leader') throw new QuorateError('not_leader', `node ${status.id} is not the leader`);
    if (!status.conf.voters.includes(id) && !status.conf.learners.includes(id)) throw new QuorateError('not_found', `${id} is not a member of the cluster`);
    if (id === status.id) throw new QuorateError('is_leader', `${id} is the leader: run \`quorate cluster leave\` on it, which hands leadership over first`);
    if (status.conf.voters.length === 1 && status.conf.voters[0] === id) throw new QuorateError('last_voter', `${id} is the last voter; a cluster cannot remove its last voter`);
    await this.ctx.raft.proposeConfChange({ type: 'remove', nodeId: id });
    this.ctx.log.log('info', 'member removed', { member: id });
  }

  /**
   * Run on the leader: promote a learner now, as an operator asks (etcd's MemberPromote), with
   * etcd's readiness rule; the automatic round (maybePromote) would get to it later anyway.
   */
  async promoteNow(id: string): Promise<void> {
    const status = this.ctx.raft.status();
    if (status.role !== 'leader') throw new QuorateError('not_leader', `node ${status.id} is not the leader`);
    if (status.conf.voters.includes(id)) throw new QuorateError('not_learner', `${id} is already a voter`);
    if (!status.conf.learners.includes(id)) throw new QuorateError('not_found', `${id} is not a member of the cluster`);
    if (!isCaughtUp(status, id)) throw new QuorateError('learner_not_ready', `${id} has not caught up with the leader's log yet`);
    await this.proposePromotion(id);
  }

  private async proposePromotion(id: string): Promise<void> {
    await this.ctx.raft.proposeConfChange({ type: 'promote', nodeId: id });
    this.ctx.metrics.memberPromoted();
    this.ctx.log.log('info', 'learner promoted to voter', { member: id });
  }

  private async promote(id: string): Promise<void> {
    try {
      await this.proposePromotion(id);
    } catch (error) {
      // ConfChangePending and leadership changes are normal here; the next round retries.
      this.ctx.log.log('debug', 'promotion deferred', { member: id, reason: String(error) });
    }
  }
}

function isCaughtUp(status: RaftStatus, id: string): boolean {
  const match = status.progress.get(id)?.match ?? 0;
  return match > 0 && match >= Math.floor(status.lastIndex * promoteMatchFraction);
}
