/**
 * Simulated agents: many worker nodes inside the benchmark process, each heartbeating as a real
 * agent does, through the real agent's client (HttpLink: its own certificate from the cluster
 * CA, its own keep-alive TLS connections, every server in its list) and on the real agent's
 * rhythm (the next heartbeat one interval after the last one was answered or failed). They run
 * no jobs, so their heartbeats carry no reports: what the servers spend is the cost of the
 * heartbeats themselves. The agents start spread evenly over one interval, as machines booted
 * at different times would be, and each lists the servers in a rotated order, so that they
 * spread over the servers instead of all asking the first one.
 *
 * They can pause, so that the benchmark can measure without them in between (machines shared
 * with other work drift, and alternating cancels the drift): their watchdog timeout is long
 * enough that the leader does not declare a paused agent down, which would commit.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { issueNodeCert, type CertAndKey } from '../../src/cluster/index.js';
import { percentile } from '../../src/util/stats.js';
import { HttpLink, type HeartbeatRequest } from '../../src/workload/index.js';
import { errorMessage } from '../cluster/wait.js';

export interface SimAgentsOptions {
  readonly count: number;
  /** The cluster CA with its key: each agent gets a certificate naming its node id. */
  readonly ca: CertAndKey;
  /** host:port of every server's API. */
  readonly servers: readonly string[];
  /** The address every simulated node claims; heartbeats do not need it to be unique. */
  readonly address: string;
  readonly intervalMs: number;
}

/** What the agents saw between two calls of drain(). */
export interface HeartbeatStats {
  readonly answeredPerSec: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The first failure's message, so that a report says what went wrong and not only how often. */
  readonly firstError: string | null;
}

/** As the real agent's link (cli/agent-command.ts): per server tried. */
const heartbeatTimeoutMs = 3_000;
/** Longer than any pause: a benchmark round without agents takes well under a minute. */
const watchdogTimeoutMs = 120_000;

interface SimAgent {
  readonly link: HttpLink;
  readonly request: HeartbeatRequest;
}

export class SimAgents {
  private readonly answered = new Set<string>();
  private latencies: number[] = [];
  private errors = 0;
  private firstError: string | null = null;
  private since = performance.now();
  /** Bumped by start() and pause(): a heartbeat loop runs while the generation it started in lasts. */
  private generation = 0;
  private loops: Promise<void>[] = [];

  private constructor(
    private readonly agents: readonly SimAgent[],
    private readonly intervalMs: number,
  ) {}

  /** Issues every agent its certificate (node ids sim-0001, sim-0002, ...); none heartbeats yet. */
  static async create(options: SimAgentsOptions): Promise<SimAgents> {
    const agents: SimAgent[] = [];
    for (let n = 0; n < options.count; n++) {
      const id = `sim-${String(n + 1).padStart(4, '0')}`;
      const cert = await issueNodeCert(options.ca, { nodeId: id, ipAddresses: [options.address] });
      const servers = options.servers.map((_, i) => options.servers[(n + i) % options.servers.length] ?? '');
      const identity = { caPem: options.ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem };
      agents.push({
        link: new HttpLink({ servers, identity: () => identity, timeoutMs: heartbeatTimeoutMs }),
        request: heartbeatRequest(id, options.address),
      });
    }
    return new SimAgents(agents, options.intervalMs);
  }

  /** How many agents have had a heartbeat answered (the first one registers the node). */
  get registered(): number {
    return this.answered.size;
  }

  /** Starts heartbeating, or resumes after pause(). */
  start(): void {
    const generation = ++this.generation;
    this.since = performance.now();
    this.loops = this.agents.map((agent, i) => this.beat(agent, (i * this.intervalMs) / this.agents.length, generation));
  }

  /** Stops heartbeating and waits for the heartbeats in flight; the connections stay open until they time out. */
  async pause(): Promise<void> {
    this.generation++;
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** The statistics since the last call (or start), and a fresh start for the next window. */
  drain(): HeartbeatStats {
    const now = performance.now();
    const latencies = this.latencies.sort((a, b) => a - b);
    const stats = {
      answeredPerSec: (1000 * latencies.length) / (now - this.since),
      errors: this.errors,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      firstError: this.firstError,
    };
    this.latencies = [];
    this.errors = 0;
    this.firstError = null;
    this.since = now;
    return stats;
  }

  /** Pauses, then closes every connection. */
  async stop(): Promise<void> {
    await this.pause();
    for (const agent of this.agents) agent.link.close();
  }

  private async beat(agent: SimAgent, delayMs: number, generation: number): Promise<void> {
    await sleep(delayMs);
    while (generation === this.generation) {
      const sent = performance.now();
      try {
        await agent.link.heartbeat(agent.request);
        this.latencies.push(performance.now() - sent);
        this.answered.add(agent.request.node.id);
      } catch (error) {
        this.errors++;
        this.firstError ??= `${agent.request.node.id}: ${errorMessage(error)}`;
      }
      await sleep(this.intervalMs);
    }
  }
}

/** A worker with no jobs; the same description every time, so only the first heartbeat commits. */
function heartbeatRequest(id: string, address: string): HeartbeatRequest {
  return {
    node: { id, role: 'worker', address, apiAddress: `${address}:8080`, watchdogTimeoutMs, labels: {}, memoryMb: 1024, cpu: 1 },
    freeMemoryMb: 512,
    reports: [],
  };
}
