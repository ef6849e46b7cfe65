/**
 * Shared by the KV tests: text-to-bytes helpers and a tiny driver that wraps commands in log
 * entries with increasing indexes, as the Raft node driver would.
 */
import assert from 'node:assert/strict';
import { msgpackKvCodec, KvStateMachine, type KvApplyResult, type KvCommand, type KvFailure } from '../../src/state/index.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function b(text: string): Uint8Array {
  return encoder.encode(text);
}

export function s(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export class Driver {
  readonly machine: KvStateMachine;
  private index = 0;

  constructor(machine = new KvStateMachine()) {
    this.machine = machine;
  }

  /** Apply one command through the codec, exactly as a committed entry would be. */
  apply(command: KvCommand): KvApplyResult {
    this.index++;
    return this.machine.apply({ type: 'normal', index: this.index, term: 1, data: msgpackKvCodec.encode(command) });
  }

  put(key: string, value: string, lease?: number): KvApplyResult {
    return this.apply({ op: 'put', key: b(key), value: b(value), lease });
  }

  del(key: string, rangeEnd?: Uint8Array): KvApplyResult {
    return this.apply({ op: 'deleteRange', key: b(key), rangeEnd });
  }

  /** Current value of a key as text, or null. */
  get(key: string): string | null {
    const result = this.machine.range(b(key));
    assert.ok(result.ok);
    const kv = result.kvs[0];
    return kv === undefined ? null : s(kv.value);
  }
}

/** Narrow a result to success or fail the test with its error. */
export function ok<T extends { ok: boolean }>(result: T | KvFailure): Exclude<T, KvFailure> {
  if (!result.ok) assert.fail(`expected success, got ${(result as KvFailure).code}: ${(result as KvFailure).message}`);
  return result as Exclude<T, KvFailure>;
}

export function failure(result: object): string {
  assert.ok('ok' in result && result.ok === false, 'expected a failure');
  return (result as KvFailure).code;
}
