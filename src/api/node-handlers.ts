/**
 * GET /v1/status (the node's own view, as service.status() reports it, with the API server's
 * counters), GET /v1/cluster/status (every member's own report, gathered by this node) and
 * GET /v1/health, which load balancers and probes poll: 200 while this node is a member and
 * knows a leader, 503 with the reason otherwise. Neither goes through the log, so both answer
 * without quorum.
 */
import { ApiError } from './errors.js';
import { ok, type Reply, type RequestContext } from './handler.js';
import type { HealthJson, StatusJson } from './wire.js';

export function status(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const json: StatusJson = { ...context.service.status(), api: context.counters() };
  return Promise.resolve(ok(json));
}

/** Answers without quorum too: the gathering asks each member directly, with a short timeout. */
export async function clusterStatus(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  return ok(await context.service.clusterStatus());
}

export function health(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const { id, leader, role, term, revision, members } = context.service.status();
  const view: Omit<HealthJson, 'healthy'> = { id, leader, role, term, revision };
  if (leader === null) {
    throw new ApiError('no_leader', 'this node knows no leader (an election is under way or quorum is lost)', { healthy: false, ...view });
  }
  if (!members.some((member) => member.id === id)) {
    throw new ApiError('not_member', 'this node is not a member of the cluster (not joined yet, or removed)', { healthy: false, ...view });
  }
  return Promise.resolve(ok({ healthy: true, ...view }));
}
