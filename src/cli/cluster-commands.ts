/**
 * `quorate cluster init` and `quorate cluster status` (seed 000).
 *
 * init creates the node in its data directory (cluster id, CA, node certificate, admin token,
 * the one-voter Raft state), starts the server in the background (or attached with
 * --foreground, for systemd and containers) and prints seed 000's lines once the node leads.
 * status asks any node for the whole cluster's view and prints seed 000's layout.
 */
import { isIP } from 'node:net';
import { InvalidArgumentError, type Command } from 'commander';
import type { ClusterStatusJson } from '../api/index.js';
import type { QuorateClient } from '../client/index.js';
import { CliError, clientFor, globalOptions, localNode, print, printJson } from './context.js';
import { addJoinCommands } from './join-commands.js';
import { addLeaveCommand } from './node-commands.js';
import { printSummary, startInBackground, untilExitOr } from './server-launch.js';
import { formatStatus } from './status-format.js';

/** How long init waits for the new node to elect itself and answer. */
const initReadyTimeoutMs = 30_000;
const readyPollMs = 100;
const logTailBytes = 2_000;

interface InitOptions {
  readonly advertise: string;
  readonly nodeId?: string;
  readonly clusterName: string;
  readonly apiPort: number;
  readonly peerPort: number;
  readonly foreground?: boolean;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new InvalidArgumentError('expected a port number (1-65535).');
  return port;
}

/** node-1 for 10.0.0.1, as in seed 000; node-1 for an IPv6 address. */
export function defaultNodeId(advertise: string): string {
  return isIP(advertise) === 4 ? `node-${advertise.split('.').pop() ?? '1'}` : 'node-1';
}

export interface FoundingOptions {
  readonly advertise: string;
  readonly nodeId?: string;
  readonly clusterName: string;
  readonly apiPort: number;
  readonly peerPort: number;
}

/**
 * Creates the first node of a new cluster in `path`, without starting it: cluster id, CA,
 * the node's certificate, the admin token and the one-voter Raft state.
 */
export async function createFoundingNode(path: string, options: FoundingOptions): Promise<string> {
  if (isIP(options.advertise) === 0) throw new CliError(`--advertise must be an IP address of this machine that the other nodes can reach, not "${options.advertise}"`);
  const { DataDir, newSecret } = await import('../cluster/data-dir.js');
  const { certFingerprint, createCa, issueNodeCert } = await import('../cluster/certs.js');
  const { founder, serverConfigFromDataDir, writeFounderState } = await import('../server/index.js');
  const { clusterIdOf, secretHash } = await import('../cluster/join-token.js');
  const dir = new DataDir(path);
  const ca = await createCa(`Quorate cluster ${options.clusterName}`);
  const identity = {
    nodeId: options.nodeId ?? defaultNodeId(options.advertise),
    clusterId: clusterIdOf(certFingerprint(ca.certPem)),
    clusterName: options.clusterName,
    role: 'server' as const,
    advertise: options.advertise,
    apiPort: options.apiPort,
    peerPort: options.peerPort,
  };
  const node = await issueNodeCert(ca, { nodeId: identity.nodeId, ipAddresses: [identity.advertise] });
  const adminToken = newSecret();
  await dir.create(identity, { caCertPem: ca.certPem, caKeyPem: ca.keyPem, nodeCertPem: node.certPem, nodeKeyPem: node.keyPem }, adminToken);
  await writeFounderState(serverConfigFromDataDir(dir, identity, [founder(identity)]), secretHash(adminToken));
  return identity.nodeId;
}

async function init(options: InitOptions, command: Command): Promise<void> {
  const { DataDir, resolveDataDir } = await import('../cluster/data-dir.js');
  const global = globalOptions(command);
  const dir = new DataDir(resolveDataDir(global.dataDir));
  const identity = { nodeId: await createFoundingNode(dir.path, options) };
  const announce = async (): Promise<void> => {
    const client = await clientFor(global);
    printSummary('cluster initialized', identity.nodeId, await waitUntilLeading(client, identity.nodeId, () => null));
  };
  if (options.foreground === true) {
    const { serveDataDir } = await import('./server-command.js');
    await serveDataDir(dir.path, announce);
    return;
  }
  const exited = startInBackground(dir.path, dir.logPath);
  const client = await clientFor(global);
  const status = await waitUntilLeading(client, identity.nodeId, () => exited.code);
  if (status === null) {
    const { readFile } = await import('node:fs/promises');
    const log = await readFile(dir.logPath, 'utf8').catch(() => '');
    throw new CliError(`the server did not start; the end of ${dir.logPath}:\n${log.slice(-logTailBytes)}`);
  }
  printSummary('cluster initialized', identity.nodeId, status);
}

/** Polls the node until it leads its one-voter cluster; null when the process exited first or time ran out. */
function waitUntilLeading(client: QuorateClient, nodeId: string, exitCode: () => number | null): Promise<ClusterStatusJson | null> {
  return untilExitOr(Date.now() + initReadyTimeoutMs, exitCode, readyPollMs, async () => {
    const status = await client.clusterStatus().catch(() => null);
    return status?.leader === nodeId && status.quorum.ok ? status : null;
  });
}

async function status(command: Command): Promise<void> {
  const global = globalOptions(command);
  if (!global.endpointsGiven && (await localNode(global)) === null) {
    const { notInitialized, resolveDataDir } = await import('../cluster/data-dir.js');
    throw new CliError(`${notInitialized(resolveDataDir(global.dataDir)).message}; or pass --endpoints to ask a remote node`);
  }
  const view = await (await clientFor(global)).clusterStatus();
  if (global.json === true) printJson(view);
  else print(formatStatus(view));
}

export function addClusterCommands(program: Command): void {
  const cluster = program.command('cluster').description('form, inspect and change the cluster');
  cluster
    .command('init')
    .description('create a new cluster with this machine as its first server, and start it')
    .requiredOption('--advertise <ip>', 'the IP address the other nodes and clients reach this node at')
    .option('--node-id <id>', 'the node id (default node-N for an advertise address ending in .N)')
    .option('--cluster-name <name>', 'a name for the cluster', 'quorate')
    .option('--api-port <port>', 'the HTTPS API port', parsePort, 8080)
    .option('--peer-port <port>', 'the port the servers talk Raft on', parsePort, 8081)
    .option('--foreground', 'stay attached (for systemd or containers) instead of starting the server in the background')
    .action((options: InitOptions, command: Command) => init(options, command));
  addJoinCommands(cluster);
  addLeaveCommand(cluster);
  cluster
    .command('status')
    .description("the cluster's health as any node sees it: quorum, leader, every member")
    .action((_options: object, command: Command) => status(command));
}
