/**
 * Simulated clients. Each runs one operation at a time (read, write or compare-and-swap on a
 * few keys) against a random live node, retrying on the leader it is told about, and records
 * the history the linearizability checker judges:
 *
 * - an operation that failed for sure (refused by a follower, or its log slot taken by another
 *   leader's entry) had no effect and is left out;
 * - one whose outcome is unknown (timeout, node crashed, overtaken by a snapshot) stays in the
 *   history open-ended: it may have taken effect at any point after its call.
 */
import { isQuorateError } from '../util/errors.js';
import type { Prng } from '../util/prng.js';
import { RaftError } from '../raft/index.js';
import type { KvInput, KvOutput, Operation } from './checkers/linearizability.js';
import type { SimCluster, SimNode } from './cluster.js';
import { encodeCommand, type RegisterResult } from './register-machine.js';

/**
 * A request refused synchronously never entered the log. After acceptance, only a proposal
 * whose log slot was taken by another leader's entry is known not to have happened; a crash
 * ("Stopped"), a timeout or a snapshot overtaking it leave the outcome unknown.
 */
const definiteAsyncFailures = new Set(['ProposalDropped']);

export interface WorkloadOptions {
  readonly clients: number;
  readonly keys: readonly string[];
  readonly thinkMsMax: number;
}

export class ClientWorkload {
  readonly history: Operation<KvInput, KvOutput>[] = [];
  private running = true;
  private outstanding = 0;
  private counter = 0;
  completed = 0;

  constructor(
    private readonly cluster: SimCluster,
    private readonly prng: Prng,
    private readonly options: WorkloadOptions,
  ) {}

  start(): void {
    for (let c = 0; c < this.options.clients; c++) this.next(c);
  }

  stop(): void {
    this.running = false;
  }

  idle(): boolean {
    return this.outstanding === 0;
  }

  outstandingCount(): number {
    return this.outstanding;
  }

  private next(clientId: number): void {
    if (!this.running) return;
    const delay = this.prng.next() * this.options.thinkMsMax;
    this.cluster.scheduler.after(delay, () => {
      const live = this.cluster.live();
      if (live.length === 0) {
        this.next(clientId);
        return;
      }
      this.invoke(clientId, this.prng.pick(live), this.randomInput(clientId), 0);
    });
  }

  private randomInput(clientId: number): KvInput {
    const key = this.prng.pick(this.options.keys);
    const value = `${clientId}.${++this.counter}`;
    const roll = this.prng.next();
    if (roll < 0.45) return { kind: 'read', key };
    if (roll < 0.8) return { kind: 'write', key, value };
    const expected = this.prng.chance(0.2) ? null : this.recentValue(key);
    return { kind: 'cas', key, expected, value };
  }

  /** A value some client wrote to `key` lately, so compare-and-swaps succeed often enough. */
  private recentValue(key: string): string | null {
    for (let i = this.history.length - 1; i >= Math.max(0, this.history.length - 20); i--) {
      const op = this.history[i];
      if (op !== undefined && op.input.key === key && op.input.kind !== 'read') return op.input.value;
    }
    return null;
  }

  private invoke(clientId: number, target: SimNode, input: KvInput, redirects: number): void {
    const node = target.node;
    if (node === null) {
      this.next(clientId);
      return;
    }
    const callTime = this.cluster.scheduler.now();
    let pending: Promise<KvOutput>;
    try {
      pending = input.kind === 'read' ? node.read().then(() => ({ kind: 'read' as const, value: target.machine.get(input.key) })) : node.propose(encodeCommand(commandOf(input))).then(outputOf);
    } catch (error) {
      this.redirect(clientId, input, error, redirects);
      return;
    }
    this.outstanding++;
    pending.then(
      (output) => {
        this.outstanding--;
        this.completed++;
        this.history.push({ clientId, input, callTime, returnTime: this.cluster.scheduler.now(), output });
        this.next(clientId);
      },
      (error: unknown) => {
        this.outstanding--;
        if (!(isQuorateError(error) && definiteAsyncFailures.has(error.code)) && input.kind !== 'read') {
          this.history.push({ clientId, input, callTime, returnTime: Infinity, output: undefined });
        }
        this.next(clientId);
      },
    );
  }

  /** NotLeader: retry once on the leader the node named, as a real client library would. */
  private redirect(clientId: number, input: KvInput, error: unknown, redirects: number): void {
    if (!isQuorateError(error)) throw error;
    const hinted = error instanceof RaftError && error.leader !== null ? this.cluster.nodes.get(error.leader) : undefined;
    if (hinted !== undefined && redirects < 2) this.invoke(clientId, hinted, input, redirects + 1);
    else this.next(clientId);
  }
}

function commandOf(input: Exclude<KvInput, { kind: 'read' }>): Parameters<typeof encodeCommand>[0] {
  return input.kind === 'write' ? { op: 'put', key: input.key, value: input.value } : { op: 'cas', key: input.key, expected: input.expected, value: input.value };
}

function outputOf(result: RegisterResult): KvOutput {
  if (result.kind === 'cas') return { kind: 'cas', ok: result.ok };
  return { kind: 'write' };
}
