/**
 * A real KvService with some methods replaced, for conditions a healthy single node cannot
 * produce on demand: the cluster's errors (no_quorum, outcome_unknown ...), an unknown leader,
 * unexpected exceptions. Every other method goes to the real service.
 */
import type { KvService } from '../../src/server/index.js';

export function overriding(real: KvService, overrides: Partial<KvService>): KvService {
  return {
    write: (command) => real.write(command),
    range: (request, consistency) => real.range(request, consistency),
    watch: (from, key, rangeEnd, listener, compacted) => real.watch(from, key, rangeEnd, listener, compacted),
    leaseGrant: (ttl, id) => real.leaseGrant(ttl, id),
    leaseRevoke: (id) => real.leaseRevoke(id),
    leaseKeepAlive: (id) => real.leaseKeepAlive(id),
    leaseTimeToLive: (id) => real.leaseTimeToLive(id),
    leaseIds: () => real.leaseIds(),
    status: () => real.status(),
    clusterStatus: () => real.clusterStatus(),
    backup: () => real.backup(),
    removeMember: (id) => real.removeMember(id),
    leave: () => real.leave(),
    authenticate: (token) => real.authenticate(token),
    createAclToken: (role, prefix) => real.createAclToken(role, prefix),
    listAclTokens: () => real.listAclTokens(),
    revokeAclToken: (id) => real.revokeAclToken(id),
    caCertificate: () => real.caCertificate(),
    createJoinToken: (role, ttlMs) => real.createJoinToken(role, ttlMs),
    listJoinTokens: () => real.listJoinTokens(),
    revokeJoinToken: (id) => real.revokeJoinToken(id),
    admit: (request) => real.admit(request),
    addArbiter: (request) => real.addArbiter(request),
    rotateCa: () => real.rotateCa(),
    caRotation: () => real.caRotation(),
    agentHeartbeat: (request) => real.agentHeartbeat(request),
    putJob: (spec) => real.putJob(spec),
    stopJob: (name) => real.stopJob(name),
    setNodeFlags: (id, flags) => real.setNodeFlags(id, flags),
    workload: () => real.workload(),
    nodes: () => real.nodes(),
    allocationRoot: real.allocationRoot,
    fencing: () => real.fencing(),
    configureFencing: (config) => real.configureFencing(config),
    fenceNode: (id) => real.fenceNode(id),
    confirmDead: (id) => real.confirmDead(id),
    events: real.events,
    ...overrides,
  };
}
