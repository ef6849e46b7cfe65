/**
 * The suite's clients: each sends reads, writes and compare-and-swaps on a few keys to one node
 * at a time over the HTTP API, from the clients' own address (network.ts), with a timeout per
 * operation, and records every operation for the linearizability checker. A request that was
 * never sent (connection refused) or was refused as invalid did nothing and is left out; a
 * failed read did nothing either. A write or CAS whose answer did not come, or came as a 5xx
 * (`no_quorum`, `outcome_unknown`, ...), may or may not have happened: it is recorded as unknown.
 *
 * Keys rotate: every `generationMs` the clients move to fresh keys (g0-a, g1-a, ...), as
 * Jepsen's independent keys do. Linearizability is checked per key, so this changes nothing
 * about what is checked, but each key's history stays short: an operation with an unknown
 * outcome stays concurrent with everything after it on its key, and over a 30-minute history
 * of one key a few hundred of those make the search intractable.
 */
import { request } from 'node:http';
import type { KvInput, KvOutput, Operation } from '../../src/sim/checkers/linearizability.js';
import type { Prng } from '../../src/util/prng.js';
import { adminToken } from '../e2e/harness.js';
import { clientAddress } from './network.js';

export type ChaosOperation = Operation<KvInput, KvOutput>;

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

type Outcome = { readonly kind: 'answer'; readonly answer: Answer } | { readonly kind: 'not-sent' } | { readonly kind: 'unknown' };

export interface ClientOptions {
  readonly hosts: readonly string[];
  readonly port: number;
  readonly keys: readonly string[];
  readonly generationMs: number;
  readonly timeoutMs: number;
  /**
   * 'serializable' is the deliberately unsafe mode that shows the checker catches real
   * anomalies: reads answered from the node's own state, recorded as if they were linearizable.
   */
  readonly reads: 'linearizable' | 'serializable';
}

function send(host: string, port: number, method: string, path: string, body: string | undefined, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let sent = false;
    const req = request({ host, port, method, path, localAddress: clientAddress, agent: false, headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ kind: 'answer', answer: { status: res.statusCode ?? 0, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) } }));
      res.on('error', () => resolve({ kind: 'unknown' }));
    });
    req.on('socket', (socket) => socket.once('connect', () => (sent = true)));
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(sent ? { kind: 'unknown' } : { kind: 'not-sent' }));
    req.end(body);
  });
}

export class ChaosClients {
  readonly history: ChaosOperation[] = [];
  /** Every key used so far, for the final reads. */
  readonly keysUsed = new Set<string>();
  private readonly started = performance.now();
  private counter = 0;

  constructor(private readonly options: ClientOptions) {}

  private now(): number {
    return performance.now() - this.started;
  }

  /** One client: operations until `running()` turns false, moving to the next node after a failure. */
  async run(clientId: number, prng: Prng, running: () => boolean): Promise<void> {
    let node = clientId % this.options.hosts.length;
    const lastRead = new Map<string, string | null>();
    while (running()) {
      const key = `g${Math.floor(this.now() / this.options.generationMs)}-${this.options.keys[prng.int(0, this.options.keys.length)] ?? 'k'}`;
      this.keysUsed.add(key);
      const roll = prng.next();
      const value = `c${clientId}-${this.counter++}`;
      const input: KvInput = roll < 0.5 ? { kind: 'read', key } : roll < 0.8 ? { kind: 'write', key, value } : { kind: 'cas', key, expected: lastRead.get(key) ?? null, value };
      const ok = await this.operate(clientId, node, input);
      if (input.kind === 'read' && ok !== null && ok.kind === 'read') lastRead.set(key, ok.value);
      if (ok === null) node = (node + 1) % this.options.hosts.length;
    }
  }

  /** Performs and records one operation; its output, or null when it failed or its outcome is unknown. */
  async operate(clientId: number, node: number, input: KvInput): Promise<KvOutput | null> {
    const host = this.options.hosts[node] ?? '';
    const callTime = this.now();
    const outcome = await this.perform(host, input);
    if (outcome.kind === 'not-sent') return null;
    const returnTime = this.now();
    if (outcome.kind === 'unknown') {
      if (input.kind !== 'read') this.history.push({ clientId, input, callTime, returnTime: Infinity, output: undefined });
      return null;
    }
    const output = this.interpret(input, outcome.answer);
    if (output === 'unknown') {
      if (input.kind !== 'read') this.history.push({ clientId, input, callTime, returnTime: Infinity, output: undefined });
      return null;
    }
    if (output === 'failed') return null;
    this.history.push({ clientId, input, callTime, returnTime, output });
    return output;
  }

  private perform(host: string, input: KvInput): Promise<Outcome> {
    const { port, timeoutMs } = this.options;
    const path = `/v1/kv/${encodeURIComponent(input.key)}`;
    switch (input.kind) {
      case 'read':
        return send(host, port, 'GET', `${path}?consistency=${this.options.reads}`, undefined, timeoutMs);
      case 'write':
        return send(host, port, 'PUT', path, input.value, timeoutMs);
      case 'cas': {
        const compare =
          input.expected === null
            ? { key: input.key, target: 'version', result: 'equal', value: 0 }
            : { key: input.key, target: 'value', result: 'equal', value: input.expected };
        const body = JSON.stringify({ compares: [compare], success: [{ op: 'put', key: input.key, value: input.value }], failure: [] });
        return send(host, port, 'POST', '/v1/txn', body, timeoutMs);
      }
    }
  }

  private interpret(input: KvInput, answer: Answer): KvOutput | 'unknown' | 'failed' {
    // Any server-side failure of a write may have come after the proposal reached the log.
    if (answer.status >= 500) return input.kind === 'read' ? 'failed' : 'unknown';
    switch (input.kind) {
      case 'read':
        if (answer.status === 404) return { kind: 'read', value: null };
        return answer.status === 200 && typeof answer.body.value === 'string' ? { kind: 'read', value: answer.body.value } : 'failed';
      case 'write':
        return answer.status === 200 ? { kind: 'write' } : 'failed';
      case 'cas':
        return answer.status === 200 && typeof answer.body.succeeded === 'boolean' ? { kind: 'cas', ok: answer.body.succeeded } : 'failed';
    }
  }
}
