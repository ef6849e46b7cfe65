/**
 * The workload routes (`quorate job ...`, `quorate node ...`, agents):
 *   POST   /v1/jobs                      a job spec (JSON; the CLI parses the TOML file)  (admin)
 *   GET    /v1/jobs                      every job with its allocation counts
 *   GET    /v1/jobs/{name}               the job, its allocations, copies that cannot be placed
 *   DELETE /v1/jobs/{name}               stop every copy                                  (admin)
 *   GET    /v1/nodes                     the nodes that may run jobs, as the leader sees them
 *   POST   /v1/nodes/{id}/drain          {"enable": bool}: move its jobs away              (admin)
 *   POST   /v1/nodes/{id}/eligibility    {"eligible": bool}: allow or stop new placements  (admin)
 *   POST   /v1/agent/heartbeat           an agent's heartbeat; the TLS client certificate must
 *                                        be the cluster's and name the node (mutual TLS)
 *   GET    /v1/allocations/{id}/logs     an allocation's output (alloc-logs.ts)           (admin)
 *   GET    /v1/fencing                   the fencing configuration and history
 *   PUT    /v1/fencing                   replace the fencing configuration                (admin)
 *   POST   /v1/nodes/{id}/fence          run the fence devices against the node now       (admin)
 *   POST   /v1/nodes/{id}/confirm-dead   an operator vouches a lost node is off           (admin)
 * Reads answer as of a linearizable read; `nodes` is answered by the leader.
 */
import type { TLSSocket } from 'node:tls';
import { z } from 'zod';
import type { Allocation, JobSpec } from '../state/index.js';
import { parseHeartbeat } from '../workload/index.js';
import { smallJsonBody } from './admin-auth.js';
import { serveAllocationLogs } from './alloc-logs.js';
import { ApiError } from './errors.js';
import { ok, type Reply, type RequestContext } from './handler.js';
import { pathSegmentText } from './request.js';
import { parseWith } from './schema.js';

const jobBytesMax = 256 * 1024;
const flagBytesMax = 1024;
const heartbeatBytesMax = 4 * 1024 * 1024;


function nameOf(context: RequestContext, what: string): string {
  const name = pathSegmentText(context.captures[0] ?? '', `the ${what}`);
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(name)) throw new ApiError('bad_request', `"${name}" is not a ${what}`);
  return name;
}

/** Allocations by status, for `job list`. */
function counts(allocations: readonly Allocation[]): Record<string, number> {
  const out: Record<string, number> = { pending: 0, running: 0, failed: 0, complete: 0, lost: 0 };
  for (const a of allocations) out[a.status] = (out[a.status] ?? 0) + 1;
  return out;
}

export async function runJob(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const spec = (await smallJsonBody(context.request, 'a job', jobBytesMax)) as JobSpec;
  const { version } = await context.service.putJob(spec);
  return ok({ name: spec.name, version });
}

export async function listJobs(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const { jobs, allocations } = await context.service.workload();
  return ok({
    jobs: jobs.map((job) => {
      const current = allocations.filter((a) => a.job === job.spec.name && a.desired === 'run');
      return { name: job.spec.name, version: job.version, count: job.spec.count, stopped: job.stopped, allocations: counts(current) };
    }),
  });
}

export async function jobStatus(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const name = nameOf(context, 'job name');
  const { jobs, allocations, blocked } = await context.service.workload();
  const job = jobs.find((j) => j.spec.name === name);
  if (job === undefined) throw new ApiError('not_found', `there is no job ${name} (see \`quorate job list\`)`);
  return ok({ job, allocations: allocations.filter((a) => a.job === name), blocked: blocked.filter((b) => b.job === name) });
}

export async function stopJob(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const name = nameOf(context, 'job name');
  await context.service.stopJob(name);
  return ok({ name, stopped: true });
}

export async function listNodes(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  return ok({ nodes: await context.service.nodes() });
}

const drainSchema = z.object({ enable: z.boolean() }).strict();
const eligibilitySchema = z.object({ eligible: z.boolean() }).strict();

export async function drainNode(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const id = nameOf(context, 'node id');
  const { enable } = parseWith(drainSchema, await smallJsonBody(context.request, 'a drain request', flagBytesMax), 'drain request');
  await context.service.setNodeFlags(id, { draining: enable });
  return ok({ node: id, draining: enable });
}

export async function nodeEligibility(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const id = nameOf(context, 'node id');
  const { eligible } = parseWith(eligibilitySchema, await smallJsonBody(context.request, 'an eligibility request', flagBytesMax), 'eligibility request');
  await context.service.setNodeFlags(id, { eligible });
  return ok({ node: id, eligible });
}

/** Only a node may speak for itself: its certificate (issued at admission) names it. */
export async function agentHeartbeat(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const socket = context.request.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') throw new ApiError('forbidden', 'agents need the HTTPS API of a cluster made by `quorate cluster init` (their certificates authenticate them)');
  if (socket.authorized !== true) throw new ApiError('unauthorized', 'an agent must present the certificate the cluster issued it (mutual TLS); join with `quorate agent --token`');
  const heartbeat = parseHeartbeat(await smallJsonBody(context.request, 'a heartbeat', heartbeatBytesMax));
  const named = socket.getPeerCertificate().subject.CN;
  if (named !== heartbeat.node.id) throw new ApiError('forbidden', `the certificate names ${String(named)}, not ${heartbeat.node.id}`);
  return ok(await context.service.agentHeartbeat(heartbeat));
}

export async function allocationLogs(context: RequestContext): Promise<null> {
  await serveAllocationLogs(context.request, context.response, context.service.allocationRoot, context.captures[0] ?? '', context.query);
  return null;
}

export async function getFencing(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  return ok(await context.service.fencing());
}

export async function putFencing(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  return ok({ config: await context.service.configureFencing(await smallJsonBody(context.request, 'a fencing configuration', jobBytesMax)) });
}

export async function fenceNode(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const id = nameOf(context, 'node id');
  return ok({ node: id, ...(await context.service.fenceNode(id)) });
}

export async function confirmDead(context: RequestContext): Promise<Reply> {
  context.query.allowOnly([]);
  const id = nameOf(context, 'node id');
  await context.service.confirmDead(id);
  return ok({ node: id, confirmedDead: true });
}
