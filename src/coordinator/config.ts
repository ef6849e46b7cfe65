/**
 * The library's configuration, in seed 001's words (node id, listen address, peer addresses,
 * election timeout, heartbeat interval), turned into the server's configuration. Peers are
 * addresses only, as in the seed: the node asks each one for its id before the cluster forms,
 * and a node whose peers already form a cluster without it joins as a learner (section 9).
 */
import { defaultTimings } from '../node/index.js';
import { QuorateError } from '../util/errors.js';
import { defaultApiPort, defaultRequestTimeoutMs, defaultSnapshotEntries, defaultSnapshotTrailingEntries, defaultWatchdogTimeoutMs, formatHostPort, parseHostPort, type ServerConfig, type WriteQuorum } from '../server/index.js';

export interface ClusterConfig {
  /** Short, stable, unique: "node1". */
  readonly nodeId: string;
  /** host:port of this node's peer listener, e.g. "127.0.0.1:5432". */
  readonly listenAddress: string;
  /** The address peers dial when listenAddress binds a wildcard (0.0.0.0). */
  readonly advertiseAddress?: string;
  /** The other founding members (or, for a late node, the existing members), host:port. */
  readonly peerAddresses: readonly string[];
  /** Where the log, hard state and snapshots live; one directory per node. */
  readonly dataDir: string;
  /** Shared by all nodes, at least 16 characters: peers authenticate each other with it (mutual TLS). */
  readonly clusterSecret: string;
  readonly clusterName?: string;
  /** Default 300 ms; the real timeout is randomized in [t, 2t). */
  readonly electionTimeoutMs?: number;
  /** Default 100 ms. */
  readonly heartbeatIntervalMs?: number;
  /**
   * Seed 001's replication factor: "majority" (default) acknowledges a write once a majority of
   * the voters stored it (RF=2 of 3); "all" waits for every voter (RF=3 of 3), trading latency
   * and availability (one voter down stalls writes) for durability.
   */
  readonly writeQuorum?: WriteQuorum;
  /** Requests that cannot commit within this long fail with no_quorum. Default 5000 ms. */
  readonly requestTimeoutMs?: number;
}

export function toServerConfig(config: ClusterConfig): ServerConfig {
  const field = (name: string, problem: string): QuorateError => new QuorateError('invalid_config', `ClusterConfig.${name}: ${problem}`);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(config.nodeId)) throw field('nodeId', "must be 1-64 letters, digits, '.', '_' or '-'");
  const listen = parseHostPort(config.listenAddress, 'ClusterConfig.listenAddress');
  const advertise = config.advertiseAddress === undefined ? listen : parseHostPort(config.advertiseAddress, 'ClusterConfig.advertiseAddress', listen.port);
  if (advertise.host === '0.0.0.0' || advertise.host === '::') throw field('advertiseAddress', 'peers cannot dial a wildcard address; set advertiseAddress');
  const self = formatHostPort(advertise);
  const peers = config.peerAddresses.map((address, i) => formatHostPort(parseHostPort(address, `ClusterConfig.peerAddresses[${i}]`)));
  if (peers.includes(self)) throw field('peerAddresses', `lists this node's own address ${self}; list only the others`);
  if (new Set(peers).size !== peers.length) throw field('peerAddresses', 'lists an address twice');
  const electionTimeoutMs = config.electionTimeoutMs ?? defaultTimings.electionMs;
  const heartbeatIntervalMs = config.heartbeatIntervalMs ?? defaultTimings.heartbeatMs;
  if (electionTimeoutMs < 2 * heartbeatIntervalMs) throw field('electionTimeoutMs', `must be at least twice heartbeatIntervalMs (${heartbeatIntervalMs}); 3-5 times is typical`);
  const apiAddress = (host: string): string => formatHostPort({ host, port: defaultApiPort });
  return {
    nodeId: config.nodeId,
    clusterName: config.clusterName ?? 'quorate',
    listen,
    advertise,
    api: { host: advertise.host, port: defaultApiPort },
    initialCluster: [
      { id: config.nodeId, peerAddress: self, apiAddress: apiAddress(advertise.host), bootstrap: true },
      ...peers.map((peerAddress) => ({ id: null, peerAddress, apiAddress: apiAddress(parseHostPort(peerAddress, 'peer').host), bootstrap: true })),
    ],
    dataDir: config.dataDir,
    tls: { kind: 'secret', secret: config.clusterSecret },
    writeQuorum: config.writeQuorum ?? 'majority',
    electionTimeoutMs,
    heartbeatIntervalMs,
    requestTimeoutMs: config.requestTimeoutMs ?? defaultRequestTimeoutMs,
    snapshotEntries: defaultSnapshotEntries,
    snapshotTrailingEntries: defaultSnapshotTrailingEntries,
    // The library replicates state for its host program; it runs no jobs of its own.
    runJobs: false,
    watchdogTimeoutMs: defaultWatchdogTimeoutMs,
    watchdogDevice: null,
    labels: {},
    // The library serves no HTTP API, nor the etcd one.
    insecureApi: false,
    grpc: null,
  };
}
