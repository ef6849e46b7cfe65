/**
 * `quorate cluster init` and `quorate cluster status` (seed 000).
 *
 * init creates the node in its data directory (cluster id, CA, node certificate, admin token,
 * the one-voter Raft state), starts the server in the background (or attached with
 * --foreground, for systemd and containers) and prints seed 000's lines once the node leads.
 * status asks any node for the whole cluster's view and prints seed 000's layout.
 * admin-token prints the admin token of a cluster configured by TOML with a shared secret.
 */
import { isIP } from 'node:net';
import type { Command } from 'commander';
import type { ClusterStatusJson } from '../api/index.js';
import type { QuorateClient } from '../client/index.js';
import { CliError, clientFor, globalOptions, localNode, parsePort, print, printJson } from './context.js';
import { addArbiterCommands } from './arbiter-command.js';
import { addCaCommands } from './ca-commands.js';
import { addJoinCommands } from './join-commands.js';
import { parseLabels } from './labels.js';
import { addRecoverCommand } from './recover-command.js';
import { addLeaveCommand } from './node-commands.js';
import { printSummary, startInBackground, untilExitOr } from './server-launch.js';
import { formatStatus } from './status-format.js';

/** How long init waits for the new node to elect itself and answer. */
const initReadyTimeoutMs = 30_000;
const readyPollMs = 100;
const logTailBytes = 2_000;

interface InitOptions {
  readonly advertise: string;
  readonly labels?: string;
  readonly nodeId?: string;
  readonly clusterName: string;
  readonly apiPort: number;
  readonly peerPort: number;
  readonly foreground?: boolean;
}


/** node-1 for 10.0.0.1, as in seed 000; node-1 for an IPv6 address. */
export function defaultNodeId(advertise: string): string {
  return isIP(advertise) === 4 ? `node-${advertise.split('.').pop() ?? '1'}` : 'node-1';
}

export interface FoundingOptions {
  readonly advertise: string;
  /** `rack=r1,zone=a`. */
  readonly labels?: string;
  readonly nodeId?: string;
  readonly clusterName: string;
  readonly apiPort: number;
  readonly peerPort: number;
  /** `cluster restore`: the replicated state to start from (its KV; members and tokens are replaced). */
  readonly restored?: Uint8Array;
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
    labels: options.labels === undefined ? {} : parseLabels(options.labels),
  };
  const node = await issueNodeCert(ca, { nodeId: identity.nodeId, ipAddresses: [identity.advertise] });
  const adminToken = newSecret();
  await dir.create(identity, { caCertPem: ca.certPem, caKeyPem: ca.keyPem, nodeCertPem: node.certPem, nodeKeyPem: node.keyPem }, adminToken);
  await writeFounderState(serverConfigFromDataDir(dir, identity, [founder(identity)]), secretHash(adminToken), options.restored);
  return identity.nodeId;
}

/** `cluster init` and `cluster restore`: create the founding node, start it, print the summary once it leads. */
async function found(options: InitOptions & { readonly restored?: Uint8Array }, command: Command, headline: string): Promise<void> {
  const { DataDir, resolveDataDir } = await import('../cluster/data-dir.js');
  const global = globalOptions(command);
  const dir = new DataDir(resolveDataDir(global.dataDir));
  const identity = { nodeId: await createFoundingNode(dir.path, options) };
  const announce = async (): Promise<void> => {
    const client = await clientFor(global);
    printSummary(headline, identity.nodeId, await waitUntilLeading(client, identity.nodeId, () => null));
  };
  if (options.foreground === true) {
    const { serveDataDir } = await import('./server-command.js');
    await serveDataDir(dir.path, announce, global.logLevel);
    return;
  }
  const exited = startInBackground(dir.path, dir.logPath, global.logLevel);
  const client = await clientFor(global);
  const status = await waitUntilLeading(client, identity.nodeId, () => exited.code);
  if (status === null) {
    const { readFile } = await import('node:fs/promises');
    const log = await readFile(dir.logPath, 'utf8').catch(() => '');
    throw new CliError(`the server did not start; the end of ${dir.logPath}:\n${log.slice(-logTailBytes)}`);
  }
  printSummary(headline, identity.nodeId, status);
}

async function saveSnapshot(file: string, command: Command): Promise<void> {
  const { decodeBackup } = await import('../cluster/backup.js');
  const { writeFileAtomic } = await import('../storage/files.js');
  const path = await import('node:path');
  const bytes = await (await clientFor(globalOptions(command))).snapshot();
  const { header } = decodeBackup(bytes, 'the server\'s answer');
  const target = path.resolve(file);
  await writeFileAtomic(target, bytes, path.dirname(target));
  print(`snapshot saved to ${file}: revision ${header.revision}, index ${header.index}, ${bytes.byteLength} bytes\n`);
}

async function restore(file: string, options: InitOptions, command: Command): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  const { decodeBackup } = await import('../cluster/backup.js');
  const bytes = await readFile(file).catch((error: unknown) => {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  });
  const backup = decodeBackup(bytes, file);
  print(`restoring revision ${backup.header.revision} of cluster ${backup.header.clusterId} (taken ${backup.header.createdAt}) into a new one-node cluster\n`);
  await found({ ...options, restored: backup.state }, command, 'cluster restored');
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

/** The token is derived from the secret (cluster/admin-token.ts), so any node's config file gives it. */
async function adminToken(configPath: string): Promise<void> {
  const { loadServerConfig } = await import('../server/config.js');
  const config = loadServerConfig(configPath);
  if (config.tls.kind !== 'secret') throw new CliError(`${configPath} uses [tls] files instead of a cluster secret: such a cluster has no derived admin token`);
  const { deriveAdminToken } = await import('../cluster/admin-token.js');
  print(`${deriveAdminToken(config.tls.secret, config.clusterName)}\n`);
}

function foundingOptions(command: Command): Command {
  return command
    .requiredOption('--advertise <ip>', 'the IP address the other nodes and clients reach this node at')
    .option('--node-id <id>', 'the node id (default node-N for an address ending in .N)')
    .option('--cluster-name <name>', 'a name for the cluster', 'quorate')
    .option('--labels <pairs>', 'labels such as rack=r1,zone=a (job constraints; status warns about voters in only two racks or zones)')
    .option('--api-port <port>', 'the HTTPS API port', parsePort, 8080)
    .option('--peer-port <port>', 'the port the servers talk Raft on', parsePort, 8081)
    .option('--foreground', 'stay attached (for systemd or containers) instead of starting the server in the background');
}

export function addClusterCommands(program: Command): void {
  const cluster = program.command('cluster').description('form, inspect and change the cluster');
  foundingOptions(cluster.command('init').description('create a new cluster with this machine as its first server, and start it'))
    .action((options: InitOptions, command: Command) => found(options, command, 'cluster initialized'));
  foundingOptions(
    cluster
      .command('restore')
      .description('start a new one-node cluster (new CA, new tokens) holding the KV of a `snapshot save` file')
      .argument('<file>', 'a file made by `quorate snapshot save`'),
  ).action((file: string, options: InitOptions, command: Command) => restore(file, options, command));
  addJoinCommands(cluster);
  addRecoverCommand(cluster);
  addArbiterCommands(program, cluster);
  program
    .command('snapshot')
    .description('backups of the replicated state')
    .command('save')
    .description('write a consistent backup (KV with history, members, tokens; checksummed) of the running cluster to FILE')
    .argument('<file>', 'where to write it')
    .action((file: string, _options: object, command: Command) => saveSnapshot(file, command));
  addLeaveCommand(cluster);
  addCaCommands(cluster);
  cluster
    .command('status')
    .description("the cluster's health as any node sees it: quorum, leader, every member")
    .action((_options: object, command: Command) => status(command));
  cluster
    .command('admin-token')
    .description('print the admin token of a cluster configured with a TOML file and a cluster secret (use it with --admin-token)')
    .requiredOption('--config <file>', "a node's TOML configuration")
    .action((options: { config: string }) => adminToken(options.config));
}
