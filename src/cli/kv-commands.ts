/**
 * `quorate kv put|get|del|watch|txn`. With --json each prints the API's JSON (api/wire.ts),
 * one object per line for watch; otherwise short text for people.
 *
 * `kv txn` is a compare-and-swap on one key: --key K, exactly one guard (--expect-value V, or
 * --expect-mod-revision N where 0 means "the key does not exist"), and exactly one action
 * (--put VALUE [--lease ID], or --delete). When the guard fails it exits with status 1 and
 * says what the key holds now.
 */
import { Option, type Command } from 'commander';
import { keyValueJson } from '../api/index.js';
import type { CompareInput, KeyValue, TxnOpInput, TxnResult } from '../client/index.js';
import { CliError, clientFor, globalOptions, parseCount, print, printJson, untilSignal } from './context.js';
import { displayBytes, formatEvent, formatKvs } from './format.js';

function putCommand(kv: Command): void {
  kv.command('put')
    .description('set KEY to VALUE')
    .argument('<key>')
    .argument('<value>')
    .option('--lease <id>', 'attach the key to this lease', parseCount)
    .action(async (key: string, value: string, options: { lease?: number }, command: Command) => {
      const global = globalOptions(command);
      const result = await (await clientFor(global)).put(key, value, options.lease === undefined ? {} : { lease: options.lease });
      if (global.json === true) printJson(result);
      else print(`OK (revision ${result.revision})\n`);
    });
}

interface GetOptions {
  readonly prefix?: boolean;
  readonly consistency: 'linearizable' | 'serializable';
  readonly revision?: number;
  readonly limit?: number;
  readonly keysOnly?: boolean;
}

function getCommand(kv: Command): void {
  kv.command('get')
    .description('print the value of KEY (raw bytes), or every key and value under a prefix')
    .argument('<key>', 'the key, or the prefix with --prefix ("" for all keys)')
    .option('--prefix', 'every key starting with KEY')
    .addOption(new Option('--consistency <level>', 'serializable reads this node without asking the leader').choices(['linearizable', 'serializable']).default('linearizable'))
    .option('--revision <n>', 'read at this past revision', parseCount)
    .option('--limit <n>', 'with --prefix: at most this many keys', parseCount)
    .option('--keys-only', 'with --prefix: keys without values')
    .action(async (key: string, options: GetOptions, command: Command) => {
      const global = globalOptions(command);
      const client = await clientFor(global);
      const read = { consistency: options.consistency, ...(options.revision === undefined ? {} : { revision: options.revision }) };
      if (options.prefix === true) {
        const list = await client.list(key, { ...read, ...(options.limit === undefined ? {} : { limit: options.limit }), keysOnly: options.keysOnly === true });
        if (global.json === true) printJson({ kvs: list.kvs.map(keyValueJson), count: list.count, more: list.more, revision: list.revision });
        else print(options.keysOnly === true ? list.kvs.map((kv) => `${displayBytes(kv.key)}\n`).join('') : formatKvs(list.kvs));
        return;
      }
      const kv = await client.get(key, read);
      if (kv === null) throw new CliError(`key ${JSON.stringify(key)} not found`);
      if (global.json === true) printJson(keyValueJson(kv));
      else print(kv.value);
    });
}

function delCommand(kv: Command): void {
  kv.command('del')
    .description('delete KEY, or every key under a prefix')
    .argument('<key>')
    .option('--prefix', 'every key starting with KEY')
    .action(async (key: string, options: { prefix?: boolean }, command: Command) => {
      const global = globalOptions(command);
      const result = await (await clientFor(global)).delete(key, { prefix: options.prefix === true });
      if (global.json === true) printJson(result);
      else print(`deleted ${result.deleted} (revision ${result.revision})\n`);
    });
}

function watchCommand(kv: Command): void {
  kv.command('watch')
    .description('print changes to KEY (or under a prefix) until interrupted')
    .argument('<key>')
    .option('--prefix', 'every key starting with KEY')
    .option('--from <revision>', 'start with the changes at and after this revision', parseCount)
    .action(async (key: string, options: { prefix?: boolean; from?: number }, command: Command) => {
      const global = globalOptions(command);
      const watch = (await clientFor(global)).watch(options.prefix === true ? { prefix: key } : { key }, options.from === undefined ? {} : { from: options.from });
      void untilSignal().then(() => watch.close());
      for await (const event of watch) {
        if (global.json === true) printJson({ type: event.type, ...keyValueJson(event.kv), revision: event.revision });
        else print(formatEvent(event));
      }
    });
}

interface TxnOptions {
  readonly key: string;
  readonly expectValue?: string;
  readonly expectModRevision?: number;
  readonly put?: string;
  readonly delete?: boolean;
  readonly lease?: number;
}

function guard(options: TxnOptions): CompareInput {
  if ((options.expectValue === undefined) === (options.expectModRevision === undefined)) {
    throw new CliError('give exactly one of --expect-value and --expect-mod-revision');
  }
  if (options.expectValue !== undefined) return { key: options.key, target: 'value', result: 'equal', value: options.expectValue };
  return { key: options.key, target: 'modRevision', result: 'equal', value: options.expectModRevision ?? 0 };
}

function action(options: TxnOptions): TxnOpInput {
  if ((options.put === undefined) === (options.delete !== true)) throw new CliError('give exactly one of --put and --delete');
  if (options.put === undefined) return { op: 'delete', key: options.key };
  return { op: 'put', key: options.key, value: options.put, ...(options.lease === undefined ? {} : { lease: options.lease }) };
}

function describeCurrent(result: TxnResult): string {
  const read = result.responses[0];
  const current: KeyValue | undefined = read?.op === 'get' ? read.kvs[0] : undefined;
  if (current === undefined) return 'the key does not exist';
  return `the key holds ${JSON.stringify(displayBytes(current.value))} at modRevision ${current.modRevision}`;
}

function txnCommand(kv: Command): void {
  kv.command('txn')
    .description('compare-and-swap one key: if the guard holds, put or delete it')
    .requiredOption('--key <key>', 'the key to compare and change')
    .option('--expect-value <value>', 'guard: the key exists with this value')
    .option('--expect-mod-revision <n>', 'guard: the key was last changed at revision N (0: it does not exist)', parseCount)
    .option('--put <value>', 'action: set the key to this value')
    .option('--delete', 'action: delete the key')
    .option('--lease <id>', 'with --put: attach the key to this lease', parseCount)
    .action(async (options: TxnOptions, command: Command) => {
      const global = globalOptions(command);
      const result = await (await clientFor(global)).txn({ compares: [guard(options)], success: [action(options)], failure: [{ op: 'get', key: options.key }] });
      if (global.json === true) printJson({ succeeded: result.succeeded, revision: result.revision });
      else if (result.succeeded) print(`OK (revision ${result.revision})\n`);
      if (!result.succeeded) throw new CliError(`compare failed: ${describeCurrent(result)}`);
    });
}

export function addKvCommands(program: Command): void {
  const kv = program.command('kv').description('read and write the replicated key-value store');
  putCommand(kv);
  getCommand(kv);
  delCommand(kv);
  watchCommand(kv);
  txnCommand(kv);
}
