/**
 * The route table: path patterns and the handler for each method. Matching is a pure function
 * of method and path, so a path that exists answers 405 (with the allowed methods) for the
 * wrong method and anything else answers 404.
 */
import type { Handler } from './handler.js';
import { deleteKey, getKey, listKeys, putKey, txn } from './kv-handlers.js';
import { leaseGrant, leaseKeepAlive, leaseRevoke, leaseTimeToLive } from './lease-handlers.js';
import { addArbiter, caCertificate, createJoinToken, join, leave, listJoinTokens, removeMember, revokeJoinToken, snapshot } from './cluster-handlers.js';
import { clusterStatus, health, status } from './node-handlers.js';
import { watch } from './watch-handler.js';
import { agentHeartbeat, allocationLogs, confirmDead, drainNode, fenceNode, getFencing, jobStatus, listJobs, listNodes, nodeEligibility, putFencing, runJob, stopJob } from './workload-handlers.js';

interface Route {
  /** Anchored; capture groups become the handler's `captures`. */
  readonly pattern: RegExp;
  readonly methods: Readonly<Partial<Record<string, Handler>>>;
}

const routes: readonly Route[] = [
  { pattern: /^\/v1\/kv$/, methods: { GET: listKeys } },
  // Keys may contain "/" (encoded or not), so the key is the whole rest of the path.
  { pattern: /^\/v1\/kv\/(.+)$/, methods: { GET: getKey, PUT: putKey, DELETE: deleteKey } },
  { pattern: /^\/v1\/txn$/, methods: { POST: txn } },
  { pattern: /^\/v1\/lease$/, methods: { POST: leaseGrant } },
  { pattern: /^\/v1\/lease\/([^/]+)$/, methods: { GET: leaseTimeToLive, DELETE: leaseRevoke } },
  { pattern: /^\/v1\/lease\/([^/]+)\/keepalive$/, methods: { POST: leaseKeepAlive } },
  { pattern: /^\/v1\/watch$/, methods: { GET: watch } },
  { pattern: /^\/v1\/status$/, methods: { GET: status } },
  { pattern: /^\/v1\/cluster\/status$/, methods: { GET: clusterStatus } },
  { pattern: /^\/v1\/cluster\/ca$/, methods: { GET: caCertificate } },
  { pattern: /^\/v1\/cluster\/join-tokens$/, methods: { GET: listJoinTokens, POST: createJoinToken } },
  { pattern: /^\/v1\/cluster\/join-tokens\/([^/]+)$/, methods: { DELETE: revokeJoinToken } },
  { pattern: /^\/v1\/cluster\/join$/, methods: { POST: join } },
  { pattern: /^\/v1\/cluster\/members\/([^/]+)$/, methods: { DELETE: removeMember } },
  { pattern: /^\/v1\/cluster\/leave$/, methods: { POST: leave } },
  { pattern: /^\/v1\/cluster\/arbiters$/, methods: { POST: addArbiter } },
  { pattern: /^\/v1\/snapshot$/, methods: { GET: snapshot } },
  { pattern: /^\/v1\/health$/, methods: { GET: health } },
  { pattern: /^\/v1\/jobs$/, methods: { GET: listJobs, POST: runJob } },
  { pattern: /^\/v1\/jobs\/([^/]+)$/, methods: { GET: jobStatus, DELETE: stopJob } },
  { pattern: /^\/v1\/nodes$/, methods: { GET: listNodes } },
  { pattern: /^\/v1\/nodes\/([^/]+)\/drain$/, methods: { POST: drainNode } },
  { pattern: /^\/v1\/nodes\/([^/]+)\/eligibility$/, methods: { POST: nodeEligibility } },
  { pattern: /^\/v1\/nodes\/([^/]+)\/fence$/, methods: { POST: fenceNode } },
  { pattern: /^\/v1\/nodes\/([^/]+)\/confirm-dead$/, methods: { POST: confirmDead } },
  { pattern: /^\/v1\/fencing$/, methods: { GET: getFencing, PUT: putFencing } },
  { pattern: /^\/v1\/agent\/heartbeat$/, methods: { POST: agentHeartbeat } },
  { pattern: /^\/v1\/allocations\/([^/]+)\/logs$/, methods: { GET: allocationLogs } },
];

export type RouteMatch =
  | { readonly kind: 'found'; readonly handler: Handler; readonly captures: readonly string[] }
  | { readonly kind: 'wrongMethod'; readonly allowed: readonly string[] }
  | { readonly kind: 'notFound' };

export function matchRoute(method: string, path: string): RouteMatch {
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (match === null) continue;
    const handler = route.methods[method];
    if (handler === undefined) return { kind: 'wrongMethod', allowed: Object.keys(route.methods) };
    return { kind: 'found', handler, captures: match.slice(1) };
  }
  return { kind: 'notFound' };
}
