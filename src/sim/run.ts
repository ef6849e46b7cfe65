/**
 * One simulation run, a pure function of its seed: a 3- or 5-node cluster under a random mix of
 * faults with clients recording a history, then healing, then the checks:
 *
 * 1. safety, continuously (SafetyChecker), and core assertions;
 * 2. liveness: after everything heals, a leader is elected and a new proposal commits within
 *    `livenessMs` of virtual time, and all replicas converge to the same state;
 * 3. linearizability of the client history (reads included).
 *
 * A failure names its kind, so a liveness failure is never mistaken for a safety failure.
 */
import { Prng } from '../util/prng.js';
import { AssertionError } from '../util/assert.js';
import type { RaftConfig, TestingBugs } from '../raft/index.js';
import { checkKvHistory } from './checkers/linearizability.js';
import { ClientWorkload } from './clients.js';
import { SimCluster } from './cluster.js';
import { Nemesis, faultKinds, type FaultKind } from './nemesis.js';
import { encodeCommand } from './register-machine.js';
import { Scheduler } from './scheduler.js';
import { Trace } from './trace.js';

export type FailureKind = 'safety' | 'liveness' | 'linearizability';

export interface SimOptions {
  readonly seed: number;
  /** Defaults to a choice of 3 or 5 made by the seed. */
  readonly nodes?: number;
  /** Defaults to a random non-empty subset chosen by the seed. */
  readonly faults?: readonly FaultKind[];
  readonly faultMs?: number;
  /** Range of virtual milliseconds between two nemesis actions. */
  readonly nemesisIntervalMs?: readonly [number, number];
  readonly livenessMs?: number;
  readonly bugs?: TestingBugs;
  /** Flow-control limits to force instead of the seed's choice. */
  readonly flowControl?: Partial<Pick<RaftConfig, 'appendBytesMax' | 'inflightMessagesMax'>>;
  readonly readMode?: 'readIndex' | 'lease';
  readonly keepTrace?: boolean;
}

export interface SimResult {
  readonly seed: number;
  readonly nodes: number;
  readonly faults: readonly FaultKind[];
  readonly failure: { readonly kind: FailureKind; readonly message: string } | null;
  readonly traceHash: string;
  readonly trace: Trace;
  readonly stats: { readonly events: number; readonly operations: number; readonly committed: number; readonly nemesisActions: number; readonly virtualMs: number };
}

export async function runSimulation(options: SimOptions): Promise<SimResult> {
  const prng = new Prng(options.seed);
  const nodes = options.nodes ?? prng.pick([3, 5]);
  const faults = options.faults ?? chooseFaults(prng);
  const faultMs = options.faultMs ?? 6000;
  const scheduler = new Scheduler();
  const trace = new Trace(options.keepTrace === true);
  const snapshotEntries = 40 + prng.int(0, 80);
  const raft = {
    // Swarm testing of flow control: some seeds send one entry per message and allow only a
    // couple of appends in flight, which also separates a new leader's no-op from older entries.
    appendBytesMax: prng.pick([1, 256, 1024 * 1024]),
    inflightMessagesMax: prng.pick([1, 4, 256]),
    // Narrow spreads make followers time out together more often: the PreVote tie-break's case.
    electionJitter: prng.pick([0.1, 0.5, 1]),
    // Simulated snapshots are small; resend a lost one after a second rather than 30.
    snapshotTicksMax: 100,
    // Snapshots every few dozen entries, so installs and compaction happen many times a run.
    snapshotEntries,
    snapshotTrailingEntries: Math.floor(snapshotEntries / 4),
    ...options.flowControl,
    ...(options.bugs === undefined ? {} : { testingBugs: options.bugs }),
    ...(options.readMode === undefined ? {} : { readMode: options.readMode }),
  };
  const cluster = new SimCluster(scheduler, prng.fork(), trace, nodes, { raft, requestTimeoutMs: 1000 });
  const workload = new ClientWorkload(cluster, prng.fork(), { clients: nodes, keys: ['x', 'y', 'z'], thinkMsMax: 30 });
  const nemesis = new Nemesis(cluster, prng.fork(), faults, options.nemesisIntervalMs ?? [100, 700]);
  let failure: SimResult['failure'] = null;
  const fail = (kind: FailureKind, message: string): void => {
    failure ??= { kind, message };
  };
  const safetyBroken = (): boolean => cluster.checker.violations.length > 0;
  try {
    await cluster.startAll();
    scheduler.after(0, function checkLogsPeriodically() {
      cluster.checkLogs();
      scheduler.after(50, checkLogsPeriodically);
    });
    workload.start();
    nemesis.start();
    await scheduler.runUntil(faultMs, safetyBroken);
    nemesis.stop();
    if (!safetyBroken()) await healAndCheckLiveness(cluster, options.livenessMs ?? 10_000, fail);
    workload.stop();
    await scheduler.runUntil(scheduler.now() + 1500, () => safetyBroken() || workload.idle());
    // Every request ends, one way or another, within its timeout: a promise that never
    // settles is a client hung forever.
    if (!workload.idle()) fail('liveness', `${workload.outstandingCount()} client operations never settled (a request promise was lost)`);
    cluster.checkLogs();
  } catch (error) {
    if (!(error instanceof AssertionError)) throw error;
    fail('safety', `assertion failed: ${error.stack ?? error.message}`);
  }
  const violation = cluster.checker.violations[0];
  if (violation !== undefined) failure = { kind: 'safety', message: violation };
  if (failure === null) {
    const result = checkKvHistory(workload.history);
    if (result.ok !== true) fail('linearizability', result.reason);
  }
  return {
    seed: options.seed,
    nodes,
    faults,
    failure,
    traceHash: trace.hash(),
    trace,
    stats: { events: scheduler.eventsRun, operations: workload.history.length, committed: cluster.checker.committedCount(), nemesisActions: nemesis.actions, virtualMs: scheduler.now() },
  };
}

function chooseFaults(prng: Prng): FaultKind[] {
  const chosen = faultKinds.filter(() => prng.chance(0.5));
  return chosen.length > 0 ? chosen : [prng.pick(faultKinds)];
}

/** Heal the network, restart crashed nodes, then demand progress and convergence in bounded time. */
async function healAndCheckLiveness(cluster: SimCluster, livenessMs: number, fail: (kind: FailureKind, message: string) => void): Promise<void> {
  const scheduler = cluster.scheduler;
  cluster.network.heal();
  for (const node of cluster.nodes.values()) node.disk.stall(null);
  for (const id of cluster.memberIds()) await cluster.start(id);
  const healedAt = scheduler.now();
  const deadline = healedAt + livenessMs;
  // Written by the probe's callbacks inside the scheduler, read after it returns.
  const progress: { committedAt: number | null } = { committedAt: null };
  const probe = (): void => {
    if (progress.committedAt !== null || scheduler.now() > deadline) return;
    const leader = cluster.leader()?.node;
    try {
      leader?.propose(encodeCommand({ op: 'put', key: 'liveness', value: String(scheduler.now()) })).then(
        () => {
          progress.committedAt ??= scheduler.now();
        },
        () => undefined,
      );
    } catch {
      // Not the leader any more; the next probe finds the new one.
    }
    scheduler.after(50, probe);
  };
  probe();
  await scheduler.runUntil(deadline, () => progress.committedAt !== null || cluster.checker.violations.length > 0);
  if (progress.committedAt === null) {
    fail('liveness', `no proposal committed within ${livenessMs} ms after healing (leader: ${cluster.leader()?.id ?? 'none'})`);
    return;
  }
  await scheduler.runUntil(scheduler.now() + livenessMs, () => converged(cluster));
  if (!converged(cluster)) {
    const applied = cluster.live().map((s) => `${s.id}=${s.node?.basicStatus().applied ?? -1}`);
    fail('liveness', `replicas did not converge within ${livenessMs} ms after healing: applied ${applied.join(' ')}`);
    return;
  }
  const states = new Set(configuredMembers(cluster).map((id) => cluster.nodes.get(id)?.machine.fingerprint()));
  if (states.size > 1) fail('safety', `replicas applied the same index but hold different states`);
}

function configuredMembers(cluster: SimCluster): string[] {
  const conf = cluster.leader()?.node?.status().conf;
  return conf === undefined ? [] : [...conf.voters, ...conf.learners];
}

/** Every live member in the leader's configuration has applied everything the leader committed. */
function converged(cluster: SimCluster): boolean {
  const leader = cluster.leader()?.node;
  if (leader == null) return false;
  const status = leader.status();
  return configuredMembers(cluster).every((id) => {
    const node = cluster.nodes.get(id)?.node;
    return node != null && node.basicStatus().applied === status.commit && status.applied === status.commit;
  });
}

/** The command that replays one seed exactly. */
export function replayCommand(options: SimOptions): string {
  const parts = [`npm run sim -- --seed ${options.seed}`];
  if (options.nodes !== undefined) parts.push(`--nodes ${options.nodes}`);
  if (options.faults !== undefined) parts.push(`--faults ${options.faults.join(',')}`);
  if (options.readMode !== undefined) parts.push(`--read-mode ${options.readMode}`);
  for (const [bug, on] of Object.entries(options.bugs ?? {})) if (on === true) parts.push(`--bug ${bug}`);
  if (options.faultMs !== undefined) parts.push(`--fault-ms ${options.faultMs}`);
  if (options.nemesisIntervalMs !== undefined) parts.push(`--nemesis-ms ${options.nemesisIntervalMs.join(',')}`);
  if (options.flowControl?.appendBytesMax !== undefined) parts.push(`--append-bytes ${options.flowControl.appendBytesMax}`);
  if (options.flowControl?.inflightMessagesMax !== undefined) parts.push(`--inflight ${options.flowControl.inflightMessagesMax}`);
  return parts.join(' ');
}
