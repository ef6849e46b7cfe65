/**
 * What every client command shares: the global options (--endpoints, --json, --timeout), the
 * client built from them, output, argument parsers, and waiting for Ctrl-C in commands that
 * run until stopped.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { QuorateClient } from '../client/index.js';

export const defaultEndpoint = 'http://127.0.0.1:8080';

export interface GlobalOptions {
  readonly endpoints: string;
  readonly json?: boolean;
  readonly timeout?: number;
}

/** A mistake the user can fix, reported as "error: <message>" with exit status 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

export function clientFor(options: GlobalOptions): QuorateClient {
  const endpoints = options.endpoints
    .split(',')
    .map((endpoint) => endpoint.trim())
    .filter((endpoint) => endpoint !== '');
  return new QuorateClient({ endpoints, ...(options.timeout === undefined ? {} : { requestTimeoutMs: options.timeout }) });
}

export function print(text: string | Uint8Array): void {
  process.stdout.write(text);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** A commander argument parser for non-negative integers (revisions, lease ids, TTLs). */
export function parseCount(text: string): number {
  const value = /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError('expected a non-negative integer.');
  return value;
}

/** Resolves on the first SIGINT or SIGTERM; the handlers are removed again. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
}
