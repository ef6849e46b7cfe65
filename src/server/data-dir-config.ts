/**
 * The server configuration of a node made by `quorate cluster init` (and later `cluster join`):
 * everything comes from its data directory, so `quorate server --data-dir D` needs no other
 * input. The API listens on the advertise address with HTTPS from the cluster CA, peers on the
 * same address; timings and limits are the defaults (the TOML bootstrap can tune them).
 */
import type { DataDir, JoinMember, NodeIdentity } from '../cluster/data-dir.js';
import { defaultTimings } from '../node/index.js';
import { defaultGrpcPort, defaultRequestTimeoutMs, defaultSnapshotEntries, defaultSnapshotTrailingEntries, defaultWatchdogTimeoutMs, formatHostPort, type InitialMember, type ServerConfig } from './config.js';


export function serverConfigFromDataDir(dir: DataDir, identity: NodeIdentity, initialCluster: readonly InitialMember[]): ServerConfig {
  const peer = { host: identity.advertise, port: identity.peerPort };
  return {
    nodeId: identity.nodeId,
    clusterId: identity.clusterId,
    clusterName: identity.clusterName,
    listen: peer,
    advertise: peer,
    api: { host: identity.advertise, port: identity.apiPort },
    grpc: { address: { host: identity.advertise, port: defaultGrpcPort }, explicit: false },
    initialCluster,
    dataDir: dir.raftDir,
    tls: { kind: 'files', caFile: dir.caCertPath, certFile: dir.nodeCertPath, keyFile: dir.nodeKeyPath, caKeyFile: dir.caKeyPath },
    writeQuorum: 'majority',
    // Seed 001's timings, the node driver's defaults.
    electionTimeoutMs: defaultTimings.electionMs,
    heartbeatIntervalMs: defaultTimings.heartbeatMs,
    requestTimeoutMs: defaultRequestTimeoutMs,
    snapshotEntries: defaultSnapshotEntries,
    snapshotTrailingEntries: defaultSnapshotTrailingEntries,
    runJobs: true,
    watchdogTimeoutMs: defaultWatchdogTimeoutMs,
    watchdogDevice: null,
    labels: identity.labels,
    insecureApi: false,
  };
}

/** The one founding member of a cluster started by `cluster init`. */
export function founder(identity: NodeIdentity): InitialMember {
  return {
    id: identity.nodeId,
    peerAddress: formatHostPort({ host: identity.advertise, port: identity.peerPort }),
    apiAddress: formatHostPort({ host: identity.advertise, port: identity.apiPort }),
    bootstrap: true,
  };
}

/**
 * A joining node's initial cluster: the members it was admitted through (as the active members
 * to ask) and itself, not founding. Empty for a node that founded its cluster: its Raft state
 * was written by `cluster init`, and without it the node must not start.
 */
export function joiningCluster(identity: NodeIdentity, via: readonly JoinMember[]): InitialMember[] {
  if (via.length === 0) return [];
  return [...via.map((m) => ({ ...m, bootstrap: true })), { ...founder(identity), bootstrap: false }];
}
