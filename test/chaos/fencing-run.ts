/**
 * Fencing under real partitions (issue 8's first acceptance criterion), on real processes inside
 * a private network namespace (network.ts): three servers made with `quorate cluster init`/`join`
 * on 127.0.<block>.1-3 (they run jobs too; their watchdog timeout is the default 5 s, which a
 * data-directory server cannot change) and one `quorate agent` worker on 127.0.<block>.4 with a
 * 2 s watchdog. Every job runs recording-job.ts, whose copies write their own start, ticks and
 * stop (job-records.ts). Before each scenario a job with no-quorum policy `stop` (count 2) and one
 * with `freeze` (count 2) are placed on the node about to be cut off and one other (the others
 * are made ineligible while they are placed); earlier scenarios' jobs keep running throughout.
 *
 * Scenarios, each ended by healing and waiting until every node is ready and every job runs
 * its count again:
 * - agent: the worker is cut off from every server; once its `stop` copies are replaced it is
 *   "powered off" (its agent, supervisors and tasks SIGKILLed, as a real fence does) and an
 *   operator runs `quorate node confirm-dead` on the majority: its `freeze` copies are replaced;
 *   then the network heals and the worker starts again;
 * - server: a server that does not lead is cut off from every other node (peer links, the API
 *   links to it and the agent's heartbeats to it); a third job (`freeze`, count 1) runs there
 *   alone, and its task crashes (SIGKILL) while the server is cut off: it may run again only
 *   after the heal;
 * - leader: the same for the leader.
 * A partition cuts both directions between the node's address and every other node's; the test
 * itself talks to the majority's APIs from 127.0.0.1, which no rule touches.
 *
 * The report (one JSON line on stdout) says, from the copies' own records: every instant at
 * which a job ran more copies than its count (must be none); per scenario how long after the
 * partition each `stop` copy on the cut-off node stopped (at most its watchdog timeout + 1 s),
 * whether its `freeze` copies kept running, what started anywhere while it was cut off, after
 * confirm-dead the replacements, when the crashed copy ran again, and which copies on the
 * majority stopped meanwhile (none need to: that costs availability, not safety).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { QuorateClient } from '../../src/client/index.js';
import type { Allocation, JobSpec, NoQuorumPolicy } from '../../src/state/index.js';
import { CliNodes, until, type CliNode } from '../e2e/cli-nodes.js';
import { copyLives, excessInstants, longestSilence, readRecords, type CopyLife, type Excess } from './job-records.js';
import { heal, inOwnNetwork, partition } from './network.js';
import { tickMs } from './recording-job.js';

export const agentWatchdogMs = 2000;
/** `cluster init`/`join` servers: the default watchdog timeout (not configurable in a data directory). */
export const serverWatchdogMs = 5000;
/** What the criterion allows between losing quorum and a `stop` copy having stopped. */
export const stopMarginMs = 1000;

const recordingJob = fileURLToPath(new URL('./recording-job.js', import.meta.url));

export interface StopCopy {
  readonly allocation: string;
  readonly job: string;
  /** From the partition to its stop record (or its end, killed); null: still running at the heal. */
  readonly stoppedAfterMs: number | null;
  readonly recordedStop: boolean;
}

export interface FreezeCopy {
  readonly allocation: string;
  readonly job: string;
  /** Ran (no stop record, still ticking) from the partition until the heal or the power-off. */
  readonly keptRunning: boolean;
  /** The longest time without a tick between the partition and that moment. */
  readonly longestSilenceMs: number;
}

export interface ScenarioReport {
  readonly name: 'agent' | 'server' | 'leader';
  readonly node: string;
  readonly address: string;
  readonly watchdogMs: number;
  readonly partitionAt: number;
  readonly healAt: number;
  readonly powerOffAt: number | null;
  readonly confirmDeadAt: number | null;
  /** The `stop` copies running on the cut-off node at the partition. */
  readonly stopCopies: readonly StopCopy[];
  /** Copies that started on the majority while the node was cut off: ms after the partition. */
  readonly startedDuring: readonly { readonly allocation: string; readonly job: string; readonly policy: NoQuorumPolicy; readonly afterMs: number }[];
  /** The `freeze` copies running on the cut-off node at the partition. */
  readonly freezeCopies: readonly FreezeCopy[];
  /** Anything that started on the cut-off node while it was cut off (must be nothing). */
  readonly startsOnMinority: readonly string[];
  /** `freeze` copies that started anywhere between the partition and the heal or confirm-dead (must be none). */
  readonly freezeStartsBeforeRelease: readonly string[];
  /** After confirm-dead: the `freeze` replacements, ms after it. */
  readonly freezeReplacements: readonly { readonly allocation: string; readonly afterMs: number }[];
  /** A `freeze` task that crashed on the cut-off node (SIGKILL): when, and when it ran again (ms after the partition). */
  readonly crash: { readonly allocation: string; readonly atMs: number; readonly restartedAfterMs: number | null } | null;
  /** Copies on the other nodes that stopped while the node was cut off (availability, not safety). */
  readonly stoppedOnMajority: readonly string[];
}

export interface FencingReport {
  readonly nodes: Readonly<Record<string, string>>;
  readonly jobs: Readonly<Record<string, { readonly count: number; readonly policy: NoQuorumPolicy }>>;
  readonly copies: number;
  /** Every instant at which a job ran more copies than its count. */
  readonly excess: readonly Excess[];
  /** How many such instants, per job (every job listed). */
  readonly excessByJob: Readonly<Record<string, number>>;
  readonly scenarios: readonly ScenarioReport[];
  readonly errors: readonly string[];
  /** Error lines from the nodes' logs. */
  readonly nodeErrors: readonly string[];
  readonly seconds: number;
}

interface Node {
  readonly id: string;
  readonly cli: CliNode;
  readonly role: 'server' | 'worker';
}

interface Scenario {
  readonly name: ScenarioReport['name'];
  readonly target: Node;
  readonly partner: Node;
  readonly watchdogMs: number;
  readonly powerOff: boolean;
  /** Also run a `freeze` job (count 1) on the node alone and SIGKILL its task (a crash) while the node is cut off. */
  readonly crashFreeze: boolean;
}

class Run {
  readonly jobs: Record<string, { count: number; policy: NoQuorumPolicy }> = {};
  readonly errors: string[] = [];
  nodes: Node[] = [];

  constructor(
    readonly cliNodes: CliNodes,
    readonly block: number,
    readonly recordFile: string,
  ) {}

  host(n: number): string {
    return `127.0.${this.block}.${n}`;
  }

  get servers(): Node[] {
    return this.nodes.filter((n) => n.role === 'server');
  }

  async client(among: readonly Node[] = this.servers): Promise<QuorateClient> {
    const first = among[0]?.cli ?? this.cliNodes.node(this.host(1));
    const ca = await readFile(join(first.dataDir, 'tls', 'ca.crt'), 'utf8');
    const token = (await readFile(join(first.dataDir, 'admin.token'), 'utf8')).trim();
    return new QuorateClient({ endpoints: among.map((n) => `https://${n.cli.host}:8080`), ca, token, requestTimeoutMs: 5000 });
  }

  async form(): Promise<void> {
    const [n1, n2, n3] = [1, 2, 3].map((n) => this.cliNodes.node(this.host(n))) as [CliNode, CliNode, CliNode];
    await n1.ok('cluster', 'init', '--advertise', n1.host);
    const token = (await n1.ok('cluster', 'join-token', '--ttl', '1h')).trim();
    await n2.ok('cluster', 'join', '--token', token, '--advertise', n2.host, '--servers', `${n1.host}:8080`);
    await n3.ok('cluster', 'join', '--token', token, '--advertise', n3.host, '--servers', `${n1.host}:8080,${n2.host}:8080`);
    const workerToken = (await n1.ok('cluster', 'join-token', '--role', 'worker', '--ttl', '1h')).trim();
    const worker = this.cliNodes.node(this.host(4));
    const servers = [n1, n2, n3].map((s) => `${s.host}:8080`).join(',');
    await worker.ok('agent', '--token', workerToken, '--advertise', worker.host, '--servers', servers, '--watchdog-timeout', `${agentWatchdogMs}ms`);
    const client = await this.client([{ id: '', cli: n1, role: 'server' }, { id: '', cli: n2, role: 'server' }, { id: '', cli: n3, role: 'server' }]);
    const listed = await until('four nodes ready to run jobs', async () => {
      const all = await client.nodes();
      return all.length === 4 && all.every((n) => n.status === 'ready') ? all : null;
    });
    this.nodes = [n1, n2, n3, worker].map((cli) => {
      const node = listed.find((n) => n.address === cli.host);
      if (node === undefined) throw new Error(`no node registered with address ${cli.host}`);
      return { id: node.id, cli, role: node.role };
    });
  }

  spec(name: string, count: number, policy: NoQuorumPolicy): JobSpec {
    this.jobs[name] = { count, policy };
    return {
      name,
      count,
      command: process.execPath,
      args: [recordingJob],
      env: { RECORD_FILE: this.recordFile },
      workdir: null,
      ports: [],
      stopGraceMs: 2000,
      resources: { memoryMb: 32, cpu: 0.1 },
      restart: { policy: 'always', attempts: 3, delayMs: 200, windowMs: 60_000 },
      constraints: { role: 'any', labels: {} },
      health: null,
      noQuorumPolicy: policy,
    };
  }

  /** Places `jobs` on exactly `on` (one copy each): the other nodes are ineligible meanwhile. */
  async place(jobs: readonly JobSpec[], on: readonly Node[]): Promise<void> {
    const client = await this.client();
    const others = this.nodes.filter((n) => !on.includes(n));
    for (const node of others) await client.setNodeEligibility(node.id, false);
    for (const job of jobs) await client.runJob(job);
    await until(
      `${jobs.map((j) => j.name).join(', ')} running on ${on.map((n) => n.id).join(', ')}`,
      async () => {
        for (const job of jobs) {
          const copies = live((await client.jobStatus(job.name)).allocations);
          const spread = new Set(copies.map((a) => a.node)).size === Math.min(job.count, on.length);
          if (copies.length !== job.count || !spread || copies.some((a) => !on.some((n) => n.id === a.node))) return null;
        }
        const started = new Set(copyLives(await readRecords(this.recordFile), tickMs).map((l) => l.job));
        return jobs.every((j) => started.has(j.name)) ? true : null;
      },
      20_000,
    );
    for (const node of others) await client.setNodeEligibility(node.id, true);
  }

  async leader(): Promise<Node> {
    const client = await this.client();
    const id = (await client.status()).leader;
    const node = this.nodes.find((n) => n.id === id);
    if (node === undefined) throw new Error(`the leader ${String(id)} is not a known server`);
    return node;
  }

  /** Every node ready and every job running its count (through the given servers). */
  async settled(among: readonly Node[] = this.servers, timeoutMs = 30_000): Promise<void> {
    const client = await this.client(among);
    await until(
      'every node ready and every job at its count',
      async () => {
        const nodes = await client.nodes();
        if (nodes.length !== this.nodes.length || nodes.some((n) => n.status !== 'ready')) return null;
        for (const [name, { count }] of Object.entries(this.jobs)) if (live((await client.jobStatus(name)).allocations).length !== count) return null;
        return true;
      },
      timeoutMs,
    );
  }

  /** Every job that had a copy on `target` runs its count again, none there (seen by the majority). */
  async replacedOff(target: Node, majority: readonly Node[], policies: readonly NoQuorumPolicy[], timeoutMs: number): Promise<void> {
    const client = await this.client(majority);
    await until(
      `the ${policies.join('/')} copies of ${target.id} replaced`,
      async () => {
        for (const [name, { count, policy }] of Object.entries(this.jobs)) {
          if (!policies.includes(policy)) continue;
          const copies = live((await client.jobStatus(name)).allocations);
          if (copies.length !== count || copies.some((a) => a.node === target.id)) return null;
        }
        return true;
      },
      timeoutMs,
    );
  }

  /** "Power off" a worker: SIGKILL its agent and every supervisor and task it started, at once. */
  async powerOff(node: Node): Promise<number> {
    const tasks = await processesOf(node.cli.host);
    const agent = await node.cli.pid();
    const at = Date.now();
    for (const pid of [...(agent === null ? [] : [agent]), ...tasks]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await node.cli.kill();
    return at;
  }

  async scenario(s: Scenario): Promise<ScenarioReport> {
    const stopJob = this.spec(`stop-${s.name}`, 2, 'stop');
    const freezeJob = this.spec(`freeze-${s.name}`, 2, 'freeze');
    await this.place([stopJob, freezeJob], [s.target, s.partner]);
    // The copy that crashes: a job of its own, so that the other freeze copies show what running on means.
    const crashJob = s.crashFreeze ? this.spec(`crash-${s.name}`, 1, 'freeze') : null;
    if (crashJob !== null) await this.place([crashJob], [s.target]);
    await sleep(1000);
    const majority = this.servers.filter((n) => n !== s.target);
    const others = this.nodes.filter((n) => n !== s.target).map((n) => n.cli.host);
    const partitionAt = Date.now();
    await partition([[s.target.cli.host], others]);
    process.stderr.write(`fencing: ${s.name}: ${s.target.id} (${s.target.cli.host}) cut off\n`);
    let powerOffAt: number | null = null;
    let confirmDeadAt: number | null = null;
    let crash: { allocation: string; pid: number; at: number } | null = null;
    let healAt: number;
    try {
      // The majority replaces the `stop` copies once the node is fenced by its watchdog.
      await this.replacedOff(s.target, majority, ['stop'], 3 * (s.watchdogMs + stopMarginMs) + 10_000);
      if (crashJob !== null) crash = await this.crash(s.target, crashJob.name);
      // Frozen copies keep running on both sides for a while longer.
      await sleep(1500);
      if (s.powerOff) {
        powerOffAt = await this.powerOff(s.target);
        await sleep(500);
        confirmDeadAt = Date.now();
        const operator = majority[0];
        if (operator === undefined) throw new Error('no server in the majority');
        await operator.cli.ok('node', 'confirm-dead', s.target.id);
        await this.replacedOff(s.target, majority, ['freeze'], 15_000);
        await sleep(500);
      }
    } catch (error) {
      // Measured and reported all the same: what ran, and when it stopped, says what went wrong.
      this.errors.push(`${s.name}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      healAt = Date.now();
      await heal();
    }
    process.stderr.write(`fencing: ${s.name}: healed after ${healAt - partitionAt} ms\n`);
    if (s.powerOff) await s.target.cli.ok('agent');
    await this.settled().catch((error: unknown) => this.errors.push(`${s.name}: after the heal: ${error instanceof Error ? error.message : String(error)}`));
    const crashed = crash;
    // The leader may still count the crashed copy as running (its report waits for a heartbeat),
    // so "settled" does not mean it ran again yet: wait for its next life (or report it missing).
    if (crashed !== null) {
      const ranAgain = async (): Promise<boolean | null> => (copyLives(await readRecords(this.recordFile), tickMs).some((l) => l.allocation === crashed.allocation && l.from > crashed.at) ? true : null);
      await until(`${crashed.allocation} running again after the heal`, ranAgain, 20_000).catch(() => undefined);
    }
    const lives = copyLives(await readRecords(this.recordFile), tickMs);
    const policy = (job: string): NoQuorumPolicy => this.jobs[job]?.policy ?? 'stop';
    const onTarget = lives.filter((l) => l.node === s.target.cli.host && l.from < partitionAt && l.to > partitionAt);
    const frozenUntil = powerOffAt ?? healAt;
    const release = confirmDeadAt ?? healAt;
    const during = lives.filter((l) => l.from >= partitionAt && l.from < healAt);
    return {
      name: s.name,
      node: s.target.id,
      address: s.target.cli.host,
      watchdogMs: s.watchdogMs,
      partitionAt,
      healAt,
      powerOffAt,
      confirmDeadAt,
      stopCopies: onTarget
        .filter((l) => policy(l.job) === 'stop')
        .map((l) => ({ allocation: l.allocation, job: l.job, stoppedAfterMs: l.to <= healAt ? l.to - partitionAt : null, recordedStop: l.stopped })),
      startedDuring: during.filter((l) => l.node !== s.target.cli.host).map((l) => ({ allocation: l.allocation, job: l.job, policy: policy(l.job), afterMs: l.from - partitionAt })),
      freezeCopies: onTarget
        .filter((l) => policy(l.job) === 'freeze' && l.pid !== crashed?.pid)
        .map((l) => ({ allocation: l.allocation, job: l.job, keptRunning: keptRunning(l, frozenUntil), longestSilenceMs: longestSilence(l, partitionAt, frozenUntil) })),
      startsOnMinority: during.filter((l) => l.node === s.target.cli.host).map(describe),
      freezeStartsBeforeRelease: lives.filter((l) => policy(l.job) === 'freeze' && l.from >= partitionAt && l.from < release).map(describe),
      freezeReplacements: freezeReplacements(during, policy, confirmDeadAt),
      crash:
        crashed === null
          ? null
          : {
              allocation: crashed.allocation,
              atMs: crashed.at - partitionAt,
              restartedAfterMs: ((again) => (again === undefined ? null : again.from - partitionAt))(lives.find((l) => l.allocation === crashed.allocation && l.from > crashed.at)),
            },
      stoppedOnMajority: lives.filter((l) => l.node !== s.target.cli.host && l.stopped && l.to >= partitionAt && l.to < healAt).map(describe),
    };
  }

  /** SIGKILL the task (not its supervisor) of `job` running on `node`, as if it crashed. */
  private async crash(node: Node, job: string): Promise<{ allocation: string; pid: number; at: number }> {
    const now = Date.now();
    const victim = copyLives(await readRecords(this.recordFile), tickMs).find((l) => l.node === node.cli.host && l.job === job && !l.stopped && l.to > now - 500);
    if (victim === undefined) throw new Error(`no copy of ${job} runs on ${node.id} to crash`);
    const at = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    return { allocation: victim.allocation, pid: victim.pid, at };
  }

  /** Stops every job (each copy records its stop) and waits until none runs. */
  async stopAll(): Promise<void> {
    const client = await this.client();
    for (const name of Object.keys(this.jobs)) await client.stopJob(name).catch((error: unknown) => this.errors.push(`stopping ${name}: ${String(error)}`));
    await until(
      'every copy stopped',
      async () => {
        for (const name of Object.keys(this.jobs)) if ((await client.jobStatus(name)).allocations.some((a) => a.status === 'running' || a.status === 'pending')) return null;
        return (await Promise.all(this.nodes.map((n) => processesOf(n.cli.host)))).every((pids) => pids.length === 0) ? true : null;
      },
      20_000,
    ).catch((error: unknown) => this.errors.push(String(error)));
  }
}

function freezeReplacements(started: readonly CopyLife[], policy: (job: string) => NoQuorumPolicy, confirmDeadAt: number | null): ScenarioReport['freezeReplacements'] {
  if (confirmDeadAt === null) return [];
  return started.filter((l) => policy(l.job) === 'freeze' && l.from >= confirmDeadAt).map((l) => ({ allocation: l.allocation, afterMs: l.from - confirmDeadAt }));
}

function live(all: readonly Allocation[]): Allocation[] {
  return all.filter((a) => a.desired === 'run' && a.status === 'running');
}

function describe(life: CopyLife): string {
  return `${life.allocation}@${life.node} (pid ${life.pid}) at ${new Date(life.from).toISOString()}`;
}

/** No stop record and ticking up to `until` (within two ticks, or it was killed at that moment). */
function keptRunning(life: CopyLife, until: number): boolean {
  if (life.stopped && life.to <= until) return false;
  return life.to >= until - 2 * tickMs;
}

/** Pids of the task supervisors and tasks of the node at `address` (they carry its QUORATE_NODE_ADDRESS). */
async function processesOf(address: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'latin1').catch(() => '');
    if (environ.split('\0').includes(`QUORATE_NODE_ADDRESS=${address}`)) pids.push(Number(entry));
  }
  return pids;
}

async function nodeErrors(nodes: readonly Node[]): Promise<string[]> {
  const lines: string[] = [];
  for (const node of nodes) {
    const log = await readFile(join(node.cli.dataDir, 'quorate.log'), 'utf8').catch(() => '');
    for (const line of log.split('\n')) if (line.includes('"level":"error"')) lines.push(`${node.id}: ${line}`);
  }
  return lines;
}

export async function runFencingPartitions(block: number): Promise<FencingReport> {
  const started = Date.now();
  const cliNodes = await CliNodes.create('fencing-partitions');
  const run = new Run(cliNodes, block, join(cliNodes.root, 'records.log'));
  const scenarios: ScenarioReport[] = [];
  let errorsInLogs: string[] = [];
  let lives: CopyLife[] = [];
  try {
    await run.form();
    const worker = run.nodes.find((n) => n.role === 'worker');
    if (worker === undefined) throw new Error('no worker');
    const plan: (() => Promise<Scenario>)[] = [
      async () => ({ name: 'agent', target: worker, partner: await run.leader(), watchdogMs: agentWatchdogMs, powerOff: true, crashFreeze: false }),
      async () => {
        const leader = await run.leader();
        const follower = run.servers.find((n) => n !== leader);
        if (follower === undefined) throw new Error('no follower');
        return { name: 'server', target: follower, partner: worker, watchdogMs: serverWatchdogMs, powerOff: false, crashFreeze: true };
      },
      async () => {
        const leader = await run.leader();
        const follower = run.servers.find((n) => n !== leader);
        if (follower === undefined) throw new Error('no follower');
        return { name: 'leader', target: leader, partner: follower, watchdogMs: serverWatchdogMs, powerOff: false, crashFreeze: false };
      },
    ];
    for (const next of plan) {
      try {
        scenarios.push(await run.scenario(await next()));
      } catch (error) {
        run.errors.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
        await heal();
        await run.settled().catch((e: unknown) => run.errors.push(`not settled after a failed scenario: ${String(e)}`));
      }
    }
    await run.stopAll();
    errorsInLogs = await nodeErrors(run.nodes);
  } catch (error) {
    run.errors.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
  } finally {
    await heal().catch(() => undefined);
    lives = copyLives(await readRecords(run.recordFile), tickMs);
    const keep = run.errors.length > 0;
    if (keep) process.env.QUORATE_E2E_KEEP = '1';
    await cliNodes.cleanup();
    // Whatever still runs (a failed run): its tasks, found by their node's address.
    for (let n = 1; n <= 4; n++) for (const pid of await processesOf(run.host(n))) process.kill(pid, 'SIGKILL');
    if (keep) process.stderr.write(`fencing: kept ${cliNodes.root}\n`);
  }
  const excess = excessInstants(lives, Object.fromEntries(Object.entries(run.jobs).map(([name, { count }]) => [name, count])));
  return {
    nodes: Object.fromEntries(run.nodes.map((n) => [n.id, n.cli.host])),
    jobs: run.jobs,
    copies: lives.length,
    excess,
    excessByJob: Object.fromEntries(Object.keys(run.jobs).map((name) => [name, excess.filter((e) => e.job === name).length])),
    scenarios,
    errors: run.errors,
    nodeErrors: errorsInLogs,
    seconds: Math.round((Date.now() - started) / 1000),
  };
}

const script = fileURLToPath(import.meta.url);
const invoked = process.argv[1] === script && process.env.NODE_TEST_CONTEXT === undefined;

function main(): Promise<number> {
  return inOwnNetwork(script, async () => {
    const report = await runFencingPartitions(70);
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return report.errors.length === 0 && report.excess.length === 0 ? 0 : 1;
  });
}

if (invoked) {
  main().then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`fencing: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
