/**
 * The floor as a target (floor-server.ts): three do-nothing etcd KV servers on the cluster's
 * addresses, for the throughput workloads only. It has no cluster, so there is no leader to kill
 * and nothing to join; `runThroughput` never asks.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EtcdGrpcAccess } from './etcd-client.js';
import { NodeProcess } from './processes.js';
import type { ClusterTarget, TargetOptions } from './target.js';
import { retryUntil } from './wait.js';

/** The port both systems' gRPC APIs use; the targets run one after the other. */
export const floorGrpcAccess: EtcdGrpcAccess = { port: 2379, password: null };
const serverPath = join(dirname(fileURLToPath(import.meta.url)), 'floor-server.js');
const startTimeoutMs = 10_000;

export function floorTarget(options: TargetOptions): ClusterTarget {
  return new FloorServers(options.hosts);
}

class FloorServers implements ClusterTarget {
  readonly name = 'floor';
  readonly endpoints: readonly string[];
  private processes: NodeProcess[] = [];
  private dir: string | undefined;

  constructor(private readonly hosts: readonly string[]) {
    this.endpoints = hosts.map((host) => `http://${host}:${floorGrpcAccess.port}`);
  }

  async start(): Promise<void> {
    const dir = (this.dir = await mkdtemp(join(tmpdir(), 'quorate-bench-floor-')));
    for (const [i, host] of this.hosts.entries()) {
      this.processes.push(await NodeProcess.spawn(process.execPath, [serverPath, host, String(floorGrpcAccess.port)], join(dir, `floor${i + 1}.log`)));
      await retryUntil(`the floor server on ${host} listens`, startTimeoutMs, () => listening(host, floorGrpcAccess.port));
    }
  }

  /** Requests go through the etcd client that wraps this target (--client etcd). */
  put(): Promise<void> {
    return Promise.reject(new Error('the floor is served only through --client etcd'));
  }

  get(): Promise<void> {
    return this.put();
  }

  pids(): Promise<readonly number[]> {
    const pids = this.processes.map((p) => p.pid);
    return pids.every((pid) => pid !== undefined) ? Promise.resolve(pids) : Promise.reject(new Error('a floor server is not running'));
  }

  leaderIndex(): Promise<number> {
    return Promise.reject(noCluster());
  }

  kill(): Promise<void> {
    return Promise.reject(noCluster());
  }

  restart(): Promise<void> {
    return Promise.reject(noCluster());
  }

  join(): Promise<number> {
    return Promise.reject(noCluster());
  }

  removeJoined(): Promise<void> {
    return Promise.reject(noCluster());
  }

  flushProfiles(): Promise<void> {
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill()));
    this.processes = [];
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

function noCluster(): Error {
  return new Error('the floor servers form no cluster: only the throughput workloads run on them');
}

function listening(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}
