/** One node process: configuration, the node, and the service it offers the API layers. */
export { ServerNode } from './node.js';
export type { ServerNodeEvents, ServerNodeOptions, StopOptions } from './node.js';
export { defaultApiPort, defaultPeerPort, defaultRequestTimeoutMs, defaultSnapshotEntries, defaultSnapshotTrailingEntries, defaultWatchdogTimeoutMs, formatHostPort, loadServerConfig, parseHostPort, parseServerConfig, withInsecureApi } from './config.js';
export type { HostPort, InitialMember, ServerConfig, TlsConfig, WriteQuorum } from './config.js';
export type * from './service.js';
export type { ClusterStatus, MemberView, NodeReport } from './cluster-status.js';
export { laggingEntriesMax } from './cluster-status.js';
export { founder, joiningCluster, serverConfigFromDataDir } from './data-dir-config.js';
export type { AdmissionSecrets, Admitted, AdmitRequest, JoinTokenView } from './admission.js';
export { writeFounderState } from './formation.js';
export { ArbiterHost } from './arbiter-host.js';
export { switchableService } from './switchable-service.js';
export { goOnAlone } from './two-node.js';
export type { AclTokenView, Authentication, Principal } from './access.js';
export type { TlsMaterial } from './tls-material.js';
export type { NodeTlsInfo } from './node-tls.js';
export type { CaRotationView } from './ca-rotation.js';
