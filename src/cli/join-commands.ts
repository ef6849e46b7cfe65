/**
 * `quorate cluster join-token` and `quorate cluster join` (seed 000).
 *
 * join-token asks the local server (admin token from the data directory) for a token and prints
 * it once; --list and --revoke manage them. join tries the --servers in order, round after
 * round, until one admits the node: for each it first fetches the CA certificate without
 * trusting it and compares its fingerprint with the one pinned in the token, and only then
 * sends the token's secret, over TLS verified against that CA. It writes the data directory,
 * starts the server (which asks to be added as a learner and is promoted once caught up) and
 * shows the progress until the node is a voter.
 */
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import type { AdmittedJson, ClusterStatusJson } from '../api/index.js';
import { QuorateClient, QuorateClientError } from '../client/index.js';
import { fetchCaUnverified } from './ca-pin.js';
import { JoinProgress } from './join-progress.js';
import { ProgressLine } from './progress.js';
import { CliError, clientFor, globalOptions, parsePort, print, printJson } from './context.js';
import { parseLabels } from './labels.js';
import { printSummary, startInBackground, untilExitOr } from './server-launch.js';

const roundPauseMs = 1_000;
const catchUpTimeoutMs = 120_000;
const progressPollMs = 200;
/** A learner this close to the most advanced member counts as caught up. */
const caughtUpEntries = 10;
/** How long a caught-up learner waits for its promotion before `join` concludes the leader keeps the voters odd. */
const parityWaitMs = 2_000;

/** Errors that another server or another round cannot fix. */
const fatalCodes = new Set(['bad_token', 'token_expired', 'token_revoked', 'wrong_role', 'address_in_use', 'member_exists', 'bad_request', 'forbidden']);


interface TokenOptions {
  readonly ttl: string;
  readonly role: 'server' | 'worker';
  readonly list?: boolean;
  readonly revoke?: string;
}

async function joinToken(options: TokenOptions, command: Command): Promise<void> {
  const global = globalOptions(command);
  const client = await clientFor(global);
  if (options.list === true) {
    const tokens = await client.listJoinTokens();
    if (global.json === true) printJson(tokens);
    else print(tokens.length === 0 ? 'no join tokens\n' : tokens.map((t) => `${t.id}  ${t.role.padEnd(6)}  ${t.state.padEnd(7)}  expires ${t.expiresAt}\n`).join(''));
    return;
  }
  if (options.revoke !== undefined) {
    const revoked = await client.revokeJoinToken(options.revoke);
    if (global.json === true) printJson(revoked);
    else print(`join token ${revoked.id} revoked\n`);
    return;
  }
  const { parseDuration } = await import('../util/duration.js');
  const created = await client.createJoinToken(options.role, parseDuration(options.ttl, '--ttl') / 1000);
  if (global.json === true) printJson(created);
  else print(`${created.token}\n`);
}

interface JoinOptions {
  readonly token: string;
  readonly labels?: string;
  readonly advertise: string;
  readonly servers: string;
  readonly nodeId?: string;
  readonly apiPort: number;
  readonly peerPort: number;
  readonly foreground?: boolean;
  readonly promote: 'auto' | 'now';
  readonly wait: string;
}

export interface JoiningOptions {
  /** What the token must admit: a server (`cluster join`) or a worker (`agent`). */
  readonly role: 'server' | 'worker';
  readonly token: string;
  /** `rack=r1,zone=a` (servers; workers keep theirs in agent.json). */
  readonly labels?: string;
  readonly advertise: string;
  readonly servers: readonly string[];
  readonly nodeId?: string;
  readonly apiPort: number;
  readonly peerPort: number;
  readonly promote: 'auto' | 'now';
  readonly waitMs: number;
}

/** Gets the node admitted through one of the servers and writes its data directory, without starting it. */
export async function admitNode(path: string, options: JoiningOptions): Promise<AdmittedJson> {
  const { clusterIdOf, parseJoinToken } = await import('../cluster/join-token.js');
  const { DataDir } = await import('../cluster/data-dir.js');
  const token = parseJoinToken(options.token);
  if (isIP(options.advertise) === 0) throw new CliError(`--advertise must be an IP address of this machine that the other nodes can reach, not "${options.advertise}"`);
  if (options.servers.length === 0) throw new CliError('--servers needs at least one server, as host:port (e.g. 127.0.0.1:8080)');
  const dir = new DataDir(path);
  if (await dir.isInitialized()) {
    const identity = await dir.readIdentity();
    throw new CliError(`${dir.path} is already initialized: it holds node ${identity.nodeId} of cluster ${identity.clusterName}. Start it with \`quorate server\`, or remove the directory to join afresh`);
  }
  const request = {
    tokenId: token.id,
    secret: token.secret,
    role: options.role,
    advertise: options.advertise,
    apiPort: options.apiPort,
    peerPort: options.peerPort,
    ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }),
    ...(options.promote === 'now' ? { promote: 'now' as const } : {}),
  };
  const admitted = await admitThrough(options.servers, token.caFingerprint, request, options.waitMs);
  await dir.create(
    { nodeId: admitted.nodeId, clusterId: clusterIdOf(token.caFingerprint), clusterName: admitted.clusterName, role: options.role, advertise: options.advertise, apiPort: options.apiPort, peerPort: options.peerPort, labels: options.labels === undefined ? {} : parseLabels(options.labels) },
    { caCertPem: admitted.caCertPem, caKeyPem: admitted.caKeyPem, nodeCertPem: admitted.nodeCertPem, nodeKeyPem: admitted.nodeKeyPem },
    admitted.adminToken,
    admitted.members,
  );
  return admitted;
}

async function join(options: JoinOptions, command: Command): Promise<void> {
  const { parseDuration } = await import('../util/duration.js');
  const { DataDir, resolveDataDir } = await import('../cluster/data-dir.js');
  const global = globalOptions(command);
  const dir = new DataDir(resolveDataDir(global.dataDir));
  const servers = options.servers
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const admitted = await admitNode(dir.path, { ...options, role: 'server', servers, waitMs: parseDuration(options.wait, '--wait') });
  print(`admitted as ${admitted.nodeId}; starting the server\n`);
  const cluster = clusterClient(servers, admitted, global.timeout);
  if (options.foreground === true) {
    const { serveDataDir } = await import('./server-command.js');
    await serveDataDir(
      dir.path,
      async () => {
        printSummary('cluster joined', admitted.nodeId, await followJoin(cluster, admitted.nodeId, () => null));
      },
      global.logLevel,
    );
    return;
  }
  const exited = startInBackground(dir.path, dir.logPath, global.logLevel);
  const status = await followJoin(cluster, admitted.nodeId, () => exited.code);
  if (status === null) throw new CliError(`the server did not finish joining; see ${dir.logPath}`);
  printSummary('cluster joined', admitted.nodeId, status);
}

/**
 * The servers the node was admitted through, with the credentials the admission gave it. The
 * join is followed through them rather than the new node: until a snapshot brings it the
 * configuration, the new node does not even know it is a member, while the leader sees it and
 * asks it for its report (with the snapshot's bytes received so far).
 */
function clusterClient(servers: readonly string[], admitted: AdmittedJson, timeoutMs: number | undefined): QuorateClient {
  return new QuorateClient({
    endpoints: servers.map((server) => `https://${server}`),
    ca: admitted.caCertPem,
    ...(admitted.adminToken === null ? {} : { token: admitted.adminToken }),
    ...(timeoutMs === undefined ? {} : { requestTimeoutMs: timeoutMs }),
  });
}

/** Every server in order, in rounds, until one admits the node or a refusal is final. */
async function admitThrough(servers: readonly string[], caFingerprint: string, request: Parameters<QuorateClient['join']>[0], waitMs: number): Promise<AdmittedJson> {
  const { certFingerprint } = await import('../cluster/certs.js');
  const deadline = Date.now() + waitMs;
  const tried: string[] = [];
  for (let round = 1; Date.now() < deadline; round++) {
    for (const server of servers) {
      print(`connecting to ${server}...\n`);
      let caPem: string;
      try {
        caPem = await fetchCaUnverified(server);
      } catch (error) {
        tried.push(`${server} (${(error as Error).message})`);
        continue;
      }
      const presented = certFingerprint(caPem);
      if (presented !== caFingerprint) {
        throw new CliError(
          `CA fingerprint mismatch: the token pins ${caFingerprint} but ${server} presents ${presented}. The token belongs to another cluster, or something is impersonating the server; nothing secret was sent`,
        );
      }
      try {
        return await new QuorateClient({ endpoints: [`https://${server}`], ca: caPem }).join(request);
      } catch (error) {
        if (error instanceof QuorateClientError && fatalCodes.has(error.code)) throw new CliError(`${server} refused the join: ${error.message}`);
        tried.push(`${server} (${(error as Error).message})`);
      }
    }
    if (Date.now() + roundPauseMs < deadline) await sleep(roundPauseMs);
    else break;
    if (round === 1) print('no server admitted the node yet; retrying\n');
  }
  throw new CliError(`no server admitted the node within ${waitMs / 1000} s; tried ${[...new Set(tried)].join(', ')}`);
}

/**
 * Shows the learner catching up (snapshot bytes, then entries, with rates and ETAs) and its
 * promotion; resolves with the last view once it votes, or once it has stayed caught up as a
 * learner for `parityWaitMs`: the leader is then keeping the number of voters odd and promotes
 * it when the next server joins.
 */
export async function followJoin(client: QuorateClient, nodeId: string, exitCode: () => number | null): Promise<ClusterStatusJson | null> {
  const deadline = Date.now() + catchUpTimeoutMs;
  const progress = new ProgressLine();
  const catchUp = new JoinProgress();
  let caughtUpSince: number | null = null;
  const joined = await untilExitOr(deadline, exitCode, progressPollMs, async () => {
    const view = await client.clusterStatus().catch(() => null);
    const self = view?.members.find((m) => m.id === nodeId);
    if (view === null || self === undefined) return null;
    if (self.voter) {
      if (!view.quorum.ok) return null;
      progress.finish('promoted to voter');
      return view;
    }
    const best = Math.max(...view.members.map((m) => m.report?.appliedIndex ?? 0));
    const applied = self.report?.appliedIndex ?? 0;
    progress.update(catchUp.line(Date.now(), self, best));
    caughtUpSince = best - applied <= caughtUpEntries && self.report?.snapshotReceiving === undefined ? (caughtUpSince ?? Date.now()) : null;
    if (caughtUpSince === null || Date.now() - caughtUpSince < parityWaitMs) return null;
    progress.end();
    print(`caught up; the leader promotes this learner when another server joins, so the number of voters stays odd (join with --promote now to promote it at once)\n`);
    return view;
  });
  progress.end();
  return joined;
}

export function addJoinCommands(cluster: Command): void {
  cluster
    .command('join-token')
    .description('print a token that lets a node join (treat it as a password), or list or revoke tokens')
    .option('--ttl <duration>', 'how long the token admits nodes, e.g. 30m, 1h, 2d', '1h')
    .addOption(new Option('--role <role>', 'what the token admits').choices(['server', 'worker']).default('server'))
    .option('--list', 'list the tokens (id, role, state, expiry), never their secrets')
    .option('--revoke <id>', 'revoke a token by its id')
    .action((options: TokenOptions, command: Command) => joinToken(options, command));
  cluster
    .command('join')
    .description('join this machine to a cluster as a server: learner first, promoted to voter once caught up')
    .requiredOption('--token <token>', 'a server join token from `quorate cluster join-token`')
    .requiredOption('--advertise <ip>', 'the IP address the other nodes and clients reach this node at')
    .requiredOption('--servers <list>', 'members to ask, host:port of their API, comma-separated; pass them all')
    .option('--node-id <id>', 'the node id (default node-N for an advertise address ending in .N)')
    .option('--labels <pairs>', 'labels such as rack=r1,zone=a (job constraints; status warns about voters in only two racks or zones)')
    .option('--api-port <port>', 'the HTTPS API port', parsePort, 8080)
    .option('--peer-port <port>', 'the port the servers talk Raft on', parsePort, 8081)
    .option('--foreground', 'stay attached (for systemd or containers) instead of starting the server in the background')
    // Seed 000: a server down during the join must not strand the node, so keep trying a while.
    .option('--wait <duration>', 'how long to keep trying the servers, round after round', '60s')
    .addOption(new Option('--promote <when>', 'auto: when the number of voters stays odd; now: as soon as caught up').choices(['auto', 'now']).default('auto'))
    .action((options: JoinOptions, command: Command) => join(options, command));
}
