/**
 * The closed-loop workloads: each client sends one request, waits for the answer, and sends the
 * next, for a fixed time. Clients are spread over the endpoints round-robin; the rotation moves
 * by one node each run, so that over three runs even a single client meets the leader once and
 * the followers twice, and the min-max range shows what forwarding to the leader costs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Prng } from '../../src/util/prng.js';
import { percentile } from '../../src/util/stats.js';
import { cpuPerRequestUs, readCpu } from './cpu.js';
import type { ClusterTarget } from './target.js';

export const keyCount = 10_000;
export const valueBytes = 256;
/** A value of valueBytes; its content does not matter to either system (neither compresses). */
export const value = new Uint8Array(valueBytes).fill(0x61);
/** After a failed request a client pauses, so that a node refusing connections is not hammered in a hot loop. */
const errorPauseMs = 10;
const preloadClients = 64;
const mixedWriteFraction = 0.1;

export type Operation = 'write' | 'readLinearizable' | 'readSerializable' | 'mixed';

export interface Workload {
  readonly name: string;
  readonly clients: number;
  readonly operation: Operation;
}

export const workloads: readonly Workload[] = [
  { name: 'write, 1 client', clients: 1, operation: 'write' },
  { name: 'write, 16 clients', clients: 16, operation: 'write' },
  { name: 'write, 64 clients', clients: 64, operation: 'write' },
  { name: 'write, 256 clients', clients: 256, operation: 'write' },
  { name: 'read linearizable, 64', clients: 64, operation: 'readLinearizable' },
  { name: 'read serializable, 64', clients: 64, operation: 'readSerializable' },
  { name: 'mixed 90r/10w, 64', clients: 64, operation: 'mixed' },
];

export interface ThroughputResult {
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** CPU per completed request: the nodes together, and the client (cpu.ts). */
  readonly nodesCpuUs: number;
  readonly clientCpuUs: number;
}

/** Keys k00001 to k10000. */
export function keyName(n: number): string {
  return `k${String(n).padStart(5, '0')}`;
}

export function randomKey(prng: Prng): string {
  return keyName(prng.int(1, keyCount + 1));
}

/** Writes every key once, so that reads find a value and every run starts from the same data. */
export async function preload(target: ClusterTarget): Promise<void> {
  await writeKeys(target, 1, keyCount, keyName, preloadClients);
}

/**
 * Writes the value to key name(n) for every n from first to last, with closed-loop clients
 * spread over the endpoints. A failed write is sent again up to retriesMax times (writing the
 * same value twice is harmless), so that one stalled request need not end a long fill; resolves
 * with the number of writes sent again.
 */
export async function writeKeys(target: ClusterTarget, first: number, last: number, name: (n: number) => string, clients: number, retriesMax = 0): Promise<number> {
  let next = first;
  let retries = 0;
  const put = async (endpoint: number, key: string): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await target.put(endpoint, key, value);
        return;
      } catch (error) {
        if (attempt >= retriesMax) throw error;
        retries++;
        await sleep(errorPauseMs);
      }
    }
  };
  const client = async (c: number): Promise<void> => {
    for (let n = next++; n <= last; n = next++) await put(c % target.endpoints.length, name(n));
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  return retries;
}

/** Runs workload for `seconds`; `run` rotates the client-to-endpoint assignment and seeds the keys. */
export async function closedLoop(target: ClusterTarget, workload: Workload, seconds: number, run: number): Promise<ThroughputResult> {
  const latencies: number[] = [];
  let errors = 0;
  const seeds = new Prng(run);
  const cpuBefore = await readCpu(target);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const client = async (c: number): Promise<void> => {
    const prng = seeds.fork();
    const endpoint = (c + run) % target.endpoints.length;
    while (performance.now() < deadline) {
      const t = performance.now();
      try {
        await request(target, endpoint, workload.operation, prng);
        latencies.push(performance.now() - t);
      } catch {
        errors++;
        await sleep(errorPauseMs);
      }
    }
  };
  await Promise.all(Array.from({ length: workload.clients }, (_, c) => client(c)));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = cpuPerRequestUs(cpuBefore, await readCpu(target), latencies.length);
  latencies.sort((a, b) => a - b);
  return { opsPerSec: latencies.length / elapsed, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), errors, nodesCpuUs: cpu.nodesUs, clientCpuUs: cpu.clientUs };
}

function request(target: ClusterTarget, endpoint: number, operation: Operation, prng: Prng): Promise<void> {
  const key = randomKey(prng);
  switch (operation) {
    case 'write':
      return target.put(endpoint, key, value);
    case 'readLinearizable':
      return target.get(endpoint, key, 'linearizable');
    case 'readSerializable':
      return target.get(endpoint, key, 'serializable');
    case 'mixed':
      // Reads in the mix are linearizable, the default of etcd's clients.
      return prng.chance(mixedWriteFraction) ? target.put(endpoint, key, value) : target.get(endpoint, key, 'linearizable');
  }
}
