/**
 * One measured window around whatever runs in it (a KV workload, or nothing): the CPU the
 * leader's process and the followers' used, the entries the leader committed, what the
 * simulated agents saw, and the CPU of the benchmark process itself, which shares the
 * machine's cores with the servers.
 * The leader is found at the start; a window in which leadership moved mixes two leaders, and
 * says so.
 */
import type { HeartbeatStats, SimAgents } from './sim-agents.js';
import type { DataDirCluster } from './data-dir-cluster.js';
import { processCpuSeconds } from './process-cpu.js';

export interface WindowStats {
  readonly seconds: number;
  /** Percent of one core. */
  readonly leaderCpuPercent: number;
  /** Percent of one core, both followers together: they take most heartbeats and forward them. */
  readonly followersCpuPercent: number;
  readonly commitsPerSec: number;
  /** Percent of one core: the KV clients and the simulated agents together. */
  readonly benchCpuPercent: number;
  /** Null when no agents ran. */
  readonly heartbeats: HeartbeatStats | null;
  /** Set when another node led at the end of the window than at its start. */
  readonly leaderChange: string | null;
}

export async function measureWindow<T>(cluster: DataDirCluster, agents: SimAgents | null, body: () => Promise<T>): Promise<{ result: T; stats: WindowStats }> {
  const leader = await cluster.leaderIndex();
  const pids = await Promise.all(cluster.endpoints.map((_, i) => cluster.pid(i)));
  const before = await cluster.serverStatus(leader);
  const serverCpu = await Promise.all(pids.map(processCpuSeconds));
  const benchCpu = process.cpuUsage();
  agents?.drain();
  const started = performance.now();
  const result = await body();
  const seconds = (performance.now() - started) / 1000;
  const heartbeats = agents?.drain() ?? null;
  const serverCpuSeconds = (await Promise.all(pids.map(processCpuSeconds))).map((cpu, i) => cpu - (serverCpu[i] ?? 0));
  const leaderCpuSeconds = serverCpuSeconds[leader] ?? 0;
  const bench = process.cpuUsage(benchCpu);
  const after = await cluster.serverStatus(leader);
  const stats: WindowStats = {
    seconds,
    leaderCpuPercent: (100 * leaderCpuSeconds) / seconds,
    followersCpuPercent: (100 * (serverCpuSeconds.reduce((sum, cpu) => sum + cpu, 0) - leaderCpuSeconds)) / seconds,
    commitsPerSec: (after.commitIndex - before.commitIndex) / seconds,
    // cpuUsage counts microseconds.
    benchCpuPercent: (100 * (bench.user + bench.system)) / 1e6 / seconds,
    heartbeats,
    leaderChange: after.leader === before.id ? null : `${before.id} led at the start, ${String(after.leader)} at the end`,
  };
  return { result, stats };
}
