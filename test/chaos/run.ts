/**
 * One chaos run: a real cluster of `quorate server` processes, concurrent clients recording a
 * history, watchers streaming every change, and a nemesis cycling through every fault (each at
 * least once) while they run; then everything is healed and every node restarted, the cluster
 * must recover, and the history is checked: linearizable per key (which also means no
 * acknowledged write was lost: the final reads are part of it), every node converges to the
 * same revision and content, and the watchers saw every change in order (watchers.ts).
 * Nodes snapshot every 1000 entries, so that a node that falls behind is caught up by a
 * snapshot from the leader, not only by the log. Must run inside a private network namespace
 * (network.ts).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkKvHistory } from '../../src/sim/checkers/linearizability.js';
import { Prng } from '../../src/util/prng.js';
import { E2eCluster, apiPort } from '../e2e/harness.js';
import { ChaosClients } from './clients.js';
import { ChaosWatcher, checkWatches } from './watchers.js';
import { faults } from './nemesis.js';
import { heal } from './network.js';

export interface ChaosOptions {
  readonly nodes: number;
  readonly seconds: number;
  readonly seed: number;
  /** Loopback block: nodes get 127.0.<block>.1 and up. */
  readonly block: number;
  readonly clients?: number;
  /** Only these nemeses (by name); all by default. */
  readonly faults?: readonly string[];
  /** See ClientOptions.reads: 'serializable' must make the checker report a violation. */
  readonly reads?: 'linearizable' | 'serializable';
}

export interface ChaosReport {
  readonly nodes: number;
  /** How long the clients ran under the nemesis. */
  readonly seconds: number;
  readonly operations: number;
  readonly unknown: number;
  readonly faults: Record<string, number>;
  readonly linearizable: { readonly ok: boolean | 'unknown'; readonly reason?: string; readonly key?: string };
  readonly converged: boolean;
  readonly revisions: readonly number[];
  /** What the watchers saw that breaks "every committed change, in order"; empty when none. */
  readonly watchProblems: readonly string[];
  /** Error lines from the nodes' logs (a Raft driver that stopped, ...): none in a good run. */
  readonly nodeErrors: readonly string[];
}

const keys = ['a', 'b', 'c'];
const opTimeoutMs = 2_000;
const holdMs = [1_500, 4_000] as const;
const settleMs = 1_000;
const convergeTimeoutMs = 30_000;
const generationMs = 10_000;
const snapshotConfig = 'snapshot_entries = 1000\nsnapshot_trailing_entries = 200';

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const prng = new Prng(options.seed);
  // Plain HTTP on loopback (--insecure-api): the clients open a connection per operation (so a
  // partition cuts exactly the operations that cross it), and a TLS handshake on each would cut
  // the load, and with it the chance that a history shows an anomaly. TLS is tested elsewhere.
  const cluster = await E2eCluster.create({ block: options.block, size: options.nodes, extraConfig: snapshotConfig, insecureApi: true });
  const watchers: ChaosWatcher[] = [];
  let failed = true;
  try {
    await cluster.startAll();
    await cluster.waitForLeader(Array.from({ length: options.nodes }, (_, i) => i), 20_000);
    const hosts = Array.from({ length: options.nodes }, (_, i) => cluster.host(i));
    const clients = new ChaosClients({ hosts, port: apiPort, keys, generationMs, timeoutMs: opTimeoutMs, reads: options.reads ?? 'linearizable' });
    watchers.push(...hosts.map((_, i) => new ChaosWatcher(hosts, apiPort, i)));
    const chosen = faults.filter((f) => options.faults === undefined || options.faults.includes(f.name));
    if (chosen.length === 0) throw new Error(`no nemesis called ${options.faults?.join(', ') ?? ''} (known: ${faults.map((f) => f.name).join(', ')})`);
    // The load lasts as long as the nemesis: at least `seconds`, and until each fault has run once.
    const started = Date.now();
    const deadline = started + options.seconds * 1000;
    let faulting = true;
    const workers = Array.from({ length: options.clients ?? 2 * options.nodes }, (_, c) => clients.run(c, prng.fork(), () => faulting));
    const injected: Record<string, number> = {};
    for (let n = 0; Date.now() < deadline || n < chosen.length; n++) {
      const fault = chosen[n % chosen.length];
      if (fault === undefined) break;
      await sleep(settleMs);
      const undo = await fault.inject(cluster, prng);
      injected[fault.name] = (injected[fault.name] ?? 0) + 1;
      await sleep(prng.int(holdMs[0], holdMs[1]));
      await undo();
    }
    faulting = false;
    const seconds = Math.round((Date.now() - started) / 1000);
    await Promise.all(workers);
    await heal();
    for (let i = 0; i < options.nodes; i++) {
      const child = cluster.processes[i];
      // A node that exited by itself (a failed Raft driver exits; see nodeErrors) is restarted as systemd would.
      if (child === null || child === undefined || child.exitCode !== null || child.signalCode !== null) await cluster.start(i);
      else await cluster.signal(i, 'SIGCONT');
    }
    await cluster.waitForLeader(Array.from({ length: options.nodes }, (_, i) => i), convergeTimeoutMs);
    // Final reads of every key, through every node: part of the checked history.
    for (let i = 0; i < options.nodes; i++) for (const key of clients.keysUsed) await clients.operate(1000 + i, i, { kind: 'read', key });
    const history = clients.history;
    const verdict = checkKvHistory(history);
    const { converged, revisions } = await convergence(cluster, options.nodes);
    const finalRevision = Math.max(...revisions);
    await caughtUp(watchers, finalRevision);
    await Promise.all(watchers.map((w) => w.stop()));
    const report: ChaosReport = {
      nodes: options.nodes,
      seconds,
      operations: history.length,
      unknown: history.filter((op) => op.output === undefined).length,
      faults: injected,
      linearizable: verdict.ok === true ? { ok: true } : { ok: verdict.ok, reason: verdict.reason, key: verdict.key },
      converged,
      revisions,
      watchProblems: checkWatches(watchers, history, finalRevision),
      nodeErrors: await errorLines(cluster, options.nodes),
    };
    failed = !passed(report);
    return report;
  } finally {
    await Promise.all(watchers.map((w) => w.stop()));
    await heal().catch(() => undefined);
    // A failed run keeps the nodes' logs and data for the post-mortem.
    await cluster.stop(failed);
  }
}

export function passed(report: ChaosReport): boolean {
  return report.linearizable.ok === true && report.converged && report.watchProblems.length === 0 && report.nodeErrors.length === 0;
}

async function errorLines(cluster: E2eCluster, nodes: number): Promise<string[]> {
  const lines: string[] = [];
  for (let i = 0; i < nodes; i++) {
    const log = await readFile(join(cluster.dir, `n${i + 1}.log`), 'utf8').catch(() => '');
    for (const line of log.split('\n')) if (line.includes('"level":"error"')) lines.push(`n${i + 1}: ${line}`);
  }
  return lines;
}

/** Waits (bounded) until every watcher has seen up to `revision`; checkWatches reports any that did not. */
async function caughtUp(watchers: readonly ChaosWatcher[], revision: number): Promise<void> {
  const deadline = Date.now() + convergeTimeoutMs;
  while (Date.now() < deadline && watchers.some((w) => w.seen < revision)) await sleep(100);
}

/**
 * Every node reaches the same revision and serves the same keys and values, serializably from
 * its own state. A request that fails (a keep-alive connection closing under it) is asked again.
 */
async function convergence(cluster: E2eCluster, nodes: number): Promise<{ converged: boolean; revisions: number[] }> {
  const deadline = Date.now() + convergeTimeoutMs;
  let revisions: number[] = [];
  while (Date.now() < deadline) {
    try {
      revisions = await Promise.all(Array.from({ length: nodes }, async (_, i) => Number((await cluster.status(i)).revision)));
      if (revisions.every((r) => r === revisions[0])) {
        const contents = await Promise.all(Array.from({ length: nodes }, async (_, i) => JSON.stringify((await cluster.request(i, 'GET', '/v1/kv?prefix=&consistency=serializable')).body.kvs)));
        if (contents.every((c) => c === contents[0])) return { converged: true, revisions };
      }
    } catch {
      // Asked again below.
    }
    await sleep(200);
  }
  return { converged: false, revisions };
}
