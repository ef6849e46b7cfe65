/**
 * The route table: path patterns and the handler for each method. Matching is a pure function
 * of method and path, so a path that exists answers 405 (with the allowed methods) for the
 * wrong method and anything else answers 404.
 */
import type { Permission } from '../cluster/acl-token.js';
import { createAclToken, listAclTokens, revokeAclToken } from './acl-handlers.js';
import type { Handler } from './handler.js';
import { deleteKey, getKey, listKeys, putKey, txn } from './kv-handlers.js';
import { leaseGrant, leaseKeepAlive, leaseRevoke, leaseTimeToLive } from './lease-handlers.js';
import { addArbiter, caCertificate, caRotation, createJoinToken, join, leave, listJoinTokens, removeMember, revokeJoinToken, rotateCa, snapshot } from './cluster-handlers.js';
import { events } from './events-handler.js';
import { metrics } from './metrics-handler.js';
import { clusterStatus, health, status } from './node-handlers.js';
import { uiAsset } from './ui/handler.js';
import { watch } from './watch-handler.js';
import { agentHeartbeat, allocationLogs, confirmDead, drainNode, fenceNode, getFencing, jobStatus, listJobs, listNodes, nodeEligibility, putFencing, runJob, stopJob } from './workload-handlers.js';

/**
 * Who may call a route: `public` needs no token (health, the CA a joining node checks, the join
 * itself with a join token in its body, agents' heartbeats with their client certificate, the
 * dashboard's page and assets, which hold no data);
 * the others need the admin token or an API token whose role grants the permission.
 */
export type Access = 'public' | Permission;

interface MethodRoute {
  readonly handler: Handler;
  readonly access: Access;
}

interface Route {
  /** Anchored; capture groups become the handler's `captures`. */
  readonly pattern: RegExp;
  readonly methods: Readonly<Partial<Record<string, MethodRoute>>>;
}

const read = (handler: Handler): MethodRoute => ({ handler, access: 'read' });
const write = (handler: Handler): MethodRoute => ({ handler, access: 'write' });
const operate = (handler: Handler): MethodRoute => ({ handler, access: 'operate' });
const admin = (handler: Handler): MethodRoute => ({ handler, access: 'admin' });
const open = (handler: Handler): MethodRoute => ({ handler, access: 'public' });

const routes: readonly Route[] = [
  { pattern: /^\/v1\/kv$/, methods: { GET: read(listKeys) } },
  // Keys may contain "/" (encoded or not), so the key is the whole rest of the path.
  { pattern: /^\/v1\/kv\/(.+)$/, methods: { GET: read(getKey), PUT: write(putKey), DELETE: write(deleteKey) } },
  { pattern: /^\/v1\/txn$/, methods: { POST: write(txn) } },
  { pattern: /^\/v1\/lease$/, methods: { POST: write(leaseGrant) } },
  { pattern: /^\/v1\/lease\/([^/]+)$/, methods: { GET: read(leaseTimeToLive), DELETE: write(leaseRevoke) } },
  { pattern: /^\/v1\/lease\/([^/]+)\/keepalive$/, methods: { POST: write(leaseKeepAlive) } },
  { pattern: /^\/v1\/watch$/, methods: { GET: read(watch) } },
  { pattern: /^\/v1\/events$/, methods: { GET: read(events) } },
  { pattern: /^\/v1\/status$/, methods: { GET: read(status) } },
  { pattern: /^\/v1\/cluster\/status$/, methods: { GET: read(clusterStatus) } },
  { pattern: /^\/v1\/cluster\/ca$/, methods: { GET: open(caCertificate) } },
  { pattern: /^\/v1\/cluster\/ca\/rotation$/, methods: { GET: admin(caRotation), POST: admin(rotateCa) } },
  { pattern: /^\/v1\/cluster\/join-tokens$/, methods: { GET: admin(listJoinTokens), POST: admin(createJoinToken) } },
  { pattern: /^\/v1\/cluster\/join-tokens\/([^/]+)$/, methods: { DELETE: admin(revokeJoinToken) } },
  { pattern: /^\/v1\/cluster\/join$/, methods: { POST: open(join) } },
  { pattern: /^\/v1\/cluster\/members\/([^/]+)$/, methods: { DELETE: admin(removeMember) } },
  { pattern: /^\/v1\/cluster\/leave$/, methods: { POST: admin(leave) } },
  { pattern: /^\/v1\/cluster\/arbiters$/, methods: { POST: admin(addArbiter) } },
  { pattern: /^\/v1\/acl\/tokens$/, methods: { GET: admin(listAclTokens), POST: admin(createAclToken) } },
  { pattern: /^\/v1\/acl\/tokens\/([^/]+)$/, methods: { DELETE: admin(revokeAclToken) } },
  { pattern: /^\/v1\/snapshot$/, methods: { GET: admin(snapshot) } },
  { pattern: /^\/v1\/health$/, methods: { GET: open(health) } },
  // Prometheus scrapes here (its conventional path) with a read token.
  { pattern: /^\/metrics$/, methods: { GET: read(metrics) } },
  { pattern: /^\/v1\/jobs$/, methods: { GET: read(listJobs), POST: operate(runJob) } },
  { pattern: /^\/v1\/jobs\/([^/]+)$/, methods: { GET: read(jobStatus), DELETE: operate(stopJob) } },
  { pattern: /^\/v1\/nodes$/, methods: { GET: read(listNodes) } },
  { pattern: /^\/v1\/nodes\/([^/]+)\/drain$/, methods: { POST: operate(drainNode) } },
  { pattern: /^\/v1\/nodes\/([^/]+)\/eligibility$/, methods: { POST: operate(nodeEligibility) } },
  { pattern: /^\/v1\/nodes\/([^/]+)\/fence$/, methods: { POST: operate(fenceNode) } },
  { pattern: /^\/v1\/nodes\/([^/]+)\/confirm-dead$/, methods: { POST: operate(confirmDead) } },
  { pattern: /^\/v1\/fencing$/, methods: { GET: read(getFencing), PUT: operate(putFencing) } },
  { pattern: /^\/v1\/agent\/heartbeat$/, methods: { POST: open(agentHeartbeat) } },
  { pattern: /^\/v1\/allocations\/([^/]+)\/logs$/, methods: { GET: operate(allocationLogs) } },
  // The dashboard: /ui (or /ui/) is the page, /ui/<name> its script and stylesheet.
  { pattern: /^\/ui(?:\/([^/]*))?$/, methods: { GET: open(uiAsset) } },
];

/** Every route's pattern, methods and access, for the tests that check every route is guarded. */
export function routeTable(): { readonly pattern: RegExp; readonly method: string; readonly access: Access }[] {
  return routes.flatMap((route) => Object.entries(route.methods).flatMap(([method, found]) => (found === undefined ? [] : [{ pattern: route.pattern, method, access: found.access }])));
}

export type RouteMatch =
  | { readonly kind: 'found'; readonly handler: Handler; readonly access: Access; readonly captures: readonly string[] }
  | { readonly kind: 'wrongMethod'; readonly allowed: readonly string[] }
  | { readonly kind: 'notFound' };

export function matchRoute(method: string, path: string): RouteMatch {
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (match === null) continue;
    const found = route.methods[method];
    if (found === undefined) return { kind: 'wrongMethod', allowed: Object.keys(route.methods) };
    return { kind: 'found', handler: found.handler, access: found.access, captures: match.slice(1) };
  }
  return { kind: 'notFound' };
}
