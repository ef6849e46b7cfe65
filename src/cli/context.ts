/**
 * What every client command shares: the global options (--endpoints, --json, --timeout), the
 * client built from them, output, argument parsers, and waiting for Ctrl-C in commands that
 * run until stopped.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { QuorateClient } from '../client/index.js';
import type { LogLevel } from '../util/log.js';

export const defaultEndpoint = 'https://127.0.0.1:8080';

export interface GlobalOptions {
  readonly endpoints: string;
  /** False when --endpoints and $QUORATE_ENDPOINTS are both absent: then the local node is used if there is one. */
  readonly endpointsGiven: boolean;
  readonly dataDir?: string;
  readonly caFile?: string;
  /** Trust the CA whose fingerprint this is (--ca-pin, $QUORATE_CA_PIN), fetched from the endpoint. */
  readonly caPin?: string;
  readonly adminToken?: string;
  /** An API token (--api-token, $QUORATE_API_TOKEN): used instead of any admin token. */
  readonly apiToken?: string;
  readonly json?: boolean;
  readonly timeout?: number;
  /** The least severe log lines written by the processes this command runs (--log-level, $QUORATE_LOG_LEVEL). */
  readonly logLevel?: LogLevel;
}

/** A mistake the user can fix, reported as "error: <message>" with exit status 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export function globalOptions(command: Command): GlobalOptions {
  return { ...command.optsWithGlobals<Omit<GlobalOptions, 'endpointsGiven'>>(), endpointsGiven: command.getOptionValueSourceWithGlobals('endpoints') !== 'default' };
}

/**
 * A client for the given endpoints; without any, for the node whose data directory this is
 * (--data-dir, $QUORATE_DATA_DIR or /var/lib/quorate), with its CA and admin token, and
 * otherwise for https://127.0.0.1:8080. --admin-token (or $QUORATE_ADMIN_TOKEN) goes with given
 * endpoints, and their CA comes from --ca-file or, checked against --ca-pin, from the server.
 */
export async function clientFor(options: GlobalOptions): Promise<QuorateClient> {
  const timeout = options.timeout === undefined ? {} : { requestTimeoutMs: options.timeout };
  const local = options.endpointsGiven ? null : await localNode(options);
  const apiToken = options.apiToken === undefined ? {} : { token: options.apiToken };
  if (local !== null) return new QuorateClient({ ...local, ...timeout, ...apiToken });
  const endpoints = options.endpoints
    .split(',')
    .map((endpoint) => endpoint.trim())
    .filter((endpoint) => endpoint !== '');
  const token = options.apiToken !== undefined ? apiToken : options.adminToken === undefined ? {} : { token: options.adminToken };
  return new QuorateClient({ endpoints, ...timeout, ...token, ...(await trustedCa(options, endpoints)) });
}

async function trustedCa(options: GlobalOptions, endpoints: readonly string[]): Promise<{ ca?: string }> {
  if (options.caFile !== undefined && options.caPin !== undefined) throw new CliError('give --ca-file or --ca-pin, not both');
  if (options.caFile !== undefined) return { ca: await readCaFile(options.caFile) };
  if (options.caPin === undefined) return {};
  const { pinnedCa } = await import('./ca-pin.js');
  return { ca: await pinnedCa(endpoints, options.caPin) };
}

async function readCaFile(path: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`--ca-file: cannot read ${path}: ${(error as Error).message}`);
  }
}

/** The local node's API endpoint and credentials, or null when the data directory holds no node. */
export async function localNode(options: GlobalOptions): Promise<{ endpoints: string[]; ca: string; token?: string } | null> {
  const { DataDir, resolveDataDir } = await import('../cluster/data-dir.js');
  const { formatHostPort } = await import('../server/config.js');
  const dir = new DataDir(resolveDataDir(options.dataDir));
  if (!(await dir.isInitialized())) return null;
  const identity = await dir.readIdentity();
  const { caCertPem } = await dir.readTls();
  // A worker serves no cluster API of its own: its commands go to the servers it heartbeats to.
  if (identity.role === 'worker') return { endpoints: (await dir.readAgentSettings()).servers.map((server) => `https://${server}`), ca: caCertPem };
  const token = await dir.readAdminToken();
  return { endpoints: [`https://${formatHostPort({ host: identity.advertise, port: identity.apiPort })}`], ca: caCertPem, ...(token === null ? {} : { token }) };
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

/** A commander argument parser for port numbers (--api-port, --peer-port). */
export function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new InvalidArgumentError('expected a port number (1-65535).');
  return port;
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
