/**
 * The replicated object the simulator's clients use: a map of registers with put and
 * compare-and-swap. It is deliberately tiny; the real KV with etcd semantics lives in state/.
 */
import type { Entry } from '../raft/index.js';
import type { StateMachine } from '../node/index.js';

export type RegisterCommand =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

export type RegisterResult = { readonly kind: 'write' } | { readonly kind: 'cas'; readonly ok: boolean } | { readonly kind: 'none' };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCommand(command: RegisterCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

export class RegisterMachine implements StateMachine<RegisterResult> {
  private values = new Map<string, string>();
  appliedIndex = 0;

  /**
   * `defer` stands for the time a large state takes to encode: snapshotInBackground captures
   * the state at once and hands it over when `defer` calls back (the simulator draws that time
   * from its PRNG), so the driver's background snapshot path runs under every fault schedule.
   */
  constructor(private readonly defer: (done: () => void) => void = (done) => done()) {}

  apply(entry: Entry): RegisterResult {
    this.appliedIndex = entry.index;
    if (entry.type !== 'normal' || entry.data.byteLength === 0) return { kind: 'none' };
    const command = JSON.parse(decoder.decode(entry.data)) as RegisterCommand;
    if (command.op === 'put') {
      this.values.set(command.key, command.value);
      return { kind: 'write' };
    }
    const current = this.values.get(command.key) ?? null;
    if (current !== command.expected) return { kind: 'cas', ok: false };
    this.values.set(command.key, command.value);
    return { kind: 'cas', ok: true };
  }

  get(key: string): string | null {
    return this.values.get(key) ?? null;
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify([...this.values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  }

  snapshotInBackground(): AsyncIterable<Uint8Array> {
    const data = this.snapshot();
    const defer = this.defer;
    return (async function* () {
      await new Promise<void>((resolve) => defer(resolve));
      yield data;
    })();
  }

  restore(data: Uint8Array): void {
    this.values = new Map(JSON.parse(decoder.decode(data)) as [string, string][]);
  }

  /** A canonical rendering of the whole state, for comparing replicas. */
  fingerprint(): string {
    return decoder.decode(this.snapshot());
  }
}
