/**
 * The faults of seed 003 on real processes: crashes (SIGKILL and restart, of any node or of the
 * leader), pauses (SIGSTOP/SIGCONT of the leader or of any node), network partitions (a minority
 * cut off, the leader cut off from its peers while clients still reach it, and a bridge where two
 * nodes cannot see each other but both see a third), and membership changes (a member removed
 * through the log, then back as an empty node that joins as a learner and is promoted). Each
 * fault is injected, held, then healed.
 */
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
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

function pause(pick: (cluster: E2eCluster, prng: Prng) => Promise<number>): Fault['inject'] {
  return async (cluster, prng) => {
    const i = await pick(cluster, prng);
    await cluster.signal(i, 'SIGSTOP');
    return () => cluster.signal(i, 'SIGCONT');
  };
}

const removalTimeoutMs = 8_000;

/** The members (voters and learners) in node i's configuration, or null if it does not answer. */
async function membersSeenBy(cluster: E2eCluster, i: number): Promise<string[] | null> {
  try {
    const members = (await cluster.status(i)).members;
    return Array.isArray(members) ? members.map((m) => String((m as { id: unknown }).id)) : null;
  } catch {
    return null;
  }
}

/**
 * Removes node i through the log, as an operator does: the leader leaves with
 * POST /v1/cluster/leave (handing leadership over first), any other member is removed with
 * DELETE /v1/cluster/members/{id}. Retried while the cluster is busy (a change pending, a
 * leader change); true once every other node has applied the removal, so that the node coming
 * back empty is told by whichever it asks first that the cluster formed without it. Throws
 * with the last answer when that does not happen in time in a cluster whose faults are healed.
 */
async function removeMember(cluster: E2eCluster, i: number): Promise<void> {
  const id = String(i + 1);
  const others = Array.from({ length: cluster.size }, (_, j) => j).filter((j) => j !== i);
  const deadline = Date.now() + removalTimeoutMs;
  let last = 'no attempt';
  while (Date.now() < deadline) {
    const seen = await Promise.all(others.map((j) => membersSeenBy(cluster, j)));
    if (seen.every((members) => members !== null && !members.includes(id))) return;
    try {
      const leader = await leaderOf(cluster);
      const answer = leader === i ? await cluster.admin(i, 'POST', '/v1/cluster/leave', 5_000) : await cluster.admin(leader, 'DELETE', `/v1/cluster/members/${id}`, 5_000);
      last = `${answer.status} ${JSON.stringify(answer.body)}`;
      // 404: removed by an earlier attempt whose answer was lost; the others will apply it.
      if (answer.status !== 200) await sleep(300);
    } catch (error) {
      last = String(error);
      await sleep(300);
    }
  }
  throw new Error(`remove-readd: node ${id} was not removed within ${removalTimeoutMs} ms (last answer: ${last})`);
}

export const faults: readonly Fault[] = [
  { name: 'kill-random', inject: crash((cluster, prng) => Promise.resolve(prng.int(0, cluster.size))) },
  { name: 'kill-leader', inject: crash((cluster) => leaderOf(cluster)) },
  { name: 'pause-leader', inject: pause((cluster) => leaderOf(cluster)) },
  { name: 'pause-random', inject: pause((cluster, prng) => Promise.resolve(prng.int(0, cluster.size))) },
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
  {
    name: 'remove-readd',
    async inject(cluster, prng) {
      const i = prng.int(0, cluster.size);
      await removeMember(cluster, i);
      await cluster.signal(i, 'SIGKILL');
      await rm(cluster.dataDir(i), { recursive: true, force: true });
      return () => cluster.start(i);
    },
  },
];
