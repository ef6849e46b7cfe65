/**
 * The two clusters the conformance suite runs against, and the only place where they differ:
 * how a client reaches them. etcd 3.4 (127.0.71.x) takes plain HTTP without auth; Quorate
 * (127.0.72.x, real `quorate server` processes from the e2e harness) serves its gRPC API over
 * TLS with the cluster CA and wants a token, which etcd clients obtain through etcd's own
 * Authenticate call with user `quorate` and the admin token as the password.
 */
import type { IOptions } from 'etcd3';
import { adminToken, E2eCluster, peerPort } from '../e2e/harness.js';
import { EtcdCluster } from './etcd-cluster.js';

export const grpcPort = 2379;

export interface Target {
  readonly name: string;
  /** Client URLs of the three members, in member order. */
  readonly endpoints: readonly string[];
  /** etcdctl flags besides --endpoints: credentials and trust. */
  readonly etcdctlFlags: readonly string[];
  /** The peer URL of a fourth member that is added as a learner but never started. */
  readonly sparePeerUrl: string;
  /** Options for the etcd3 npm client, `hosts` included. */
  readonly clientOptions: IOptions;
  stop(): Promise<void>;
}

export interface TargetSpec {
  readonly name: string;
  start(): Promise<Target>;
}

const hosts = (block: number): string[] => [1, 2, 3].map((i) => `127.0.${block}.${i}`);

export const etcdTarget: TargetSpec = {
  name: 'etcd 3.4',
  async start() {
    const cluster = await EtcdCluster.start(hosts(71));
    const endpoints = cluster.endpoints;
    return { name: this.name, endpoints, etcdctlFlags: [], sparePeerUrl: 'http://127.0.71.4:2380', clientOptions: { hosts: endpoints }, stop: () => cluster.stop() };
  },
};

export const quorateTarget: TargetSpec = {
  name: 'Quorate',
  async start() {
    const cluster = await E2eCluster.create({ block: 72 });
    try {
      await cluster.startAll();
      await cluster.waitForLeader([0, 1, 2]);
    } catch (error) {
      await cluster.stop(true);
      throw error;
    }
    const endpoints = hosts(72).map((host) => `https://${host}:${grpcPort}`);
    return {
      name: this.name,
      endpoints,
      etcdctlFlags: ['--cacert', cluster.caFile, '--user', `quorate:${adminToken}`],
      sparePeerUrl: `https://127.0.72.4:${peerPort}`,
      clientOptions: { hosts: endpoints, credentials: { rootCertificate: Buffer.from(cluster.caPem) }, auth: { username: 'quorate', password: adminToken } },
      stop: () => cluster.stop(),
    };
  },
};
