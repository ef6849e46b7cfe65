/**
 * The faults of seed 003 on real processes: crashes (SIGKILL and restart, of any node or of the
 * leader), pauses (SIGSTOP/SIGCONT of the leader), and network partitions (a minority cut off, the
 * leader cut off from its peers while clients still reach it, and a bridge where two nodes cannot
 * see each other but both see a third). Each fault is injected, held, then healed.
 */
import type { E2eCluster } from '../e2e/harness.js';
import type { Prng } from '../../src/util/prng.js';
import { cutOneWay, heal, partition } from './network.js';

export interface Fault {
  readonly name: string;
  /** Injects the fault; resolves with the function that heals it. */
  inject(cluster: E2eCluster, prng: Prng): Promise<() => Promise<void>>;
}

async function leaderOf(cluster: E2eCluster): Promise<number> {
  const live = cluster.processes.flatMap((p, i) => (p === null ? [] : [i]));
  return cluster.waitForLeader(live, 10_000);
}

function hosts(cluster: E2eCluster): string[] {
  return Array.from({ length: cluster.size }, (_, i) => cluster.host(i));
}

function crash(pick: (cluster: E2eCluster, prng: Prng) => Promise<number>): Fault['inject'] {
  return async (cluster, prng) => {
    const i = await pick(cluster, prng);
    await cluster.signal(i, 'SIGKILL');
    return () => cluster.start(i);
  };
}

export const faults: readonly Fault[] = [
  { name: 'kill-random', inject: crash((cluster, prng) => Promise.resolve(prng.int(0, cluster.size))) },
  { name: 'kill-leader', inject: crash((cluster) => leaderOf(cluster)) },
  {
    name: 'pause-leader',
    async inject(cluster) {
      const i = await leaderOf(cluster);
      await cluster.signal(i, 'SIGSTOP');
      return () => cluster.signal(i, 'SIGCONT');
    },
  },
  {
    name: 'partition-minority',
    async inject(cluster, prng) {
      const all = hosts(cluster);
      const cut = new Set<string>();
      while (cut.size < Math.floor((cluster.size - 1) / 2)) cut.add(all[prng.int(0, all.length)] ?? '');
      await partition([[...cut], all.filter((h) => !cut.has(h))]);
      return heal;
    },
  },
  {
    name: 'isolate-leader',
    async inject(cluster) {
      const leader = cluster.host(await leaderOf(cluster));
      await partition([[leader], hosts(cluster).filter((h) => h !== leader)]);
      return heal;
    },
  },
  {
    name: 'bridge',
    async inject(cluster, prng) {
      // Two nodes that cannot see each other, both seeing the rest: the bridge between them.
      const all = hosts(cluster);
      const a = prng.int(0, all.length);
      const b = (a + 1 + prng.int(0, all.length - 1)) % all.length;
      const [hostA, hostB] = [all[a] ?? '', all[b] ?? ''];
      await cutOneWay(hostA, hostB);
      await cutOneWay(hostB, hostA);
      return heal;
    },
  },
];
