/**
 * `quorate local-cluster` (what `npm start` runs): a 3-node cluster on this machine, on
 * 127.0.0.1, 127.0.0.2 and 127.0.0.3 with the same ports (API 8080, peers 8081), like the
 * seeds' 10.0.0.1-3, formed the way an operator forms one: the first node is initialized
 * (`cluster init`), the others are admitted with a join token (`cluster join`). Each node's data
 * directory is <dir>/<host> (default ./.quorate). Run again, it starts the same three nodes on
 * their data. The servers run as children of this command; Ctrl-C stops them all gracefully.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, open } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { ClusterStatusJson } from '../api/index.js';
import { createFoundingNode } from './cluster-commands.js';
import { CliError, clientFor, print, untilSignal, type GlobalOptions } from './context.js';
import { admitNode } from './join-commands.js';
import { untilExitOr } from './server-launch.js';
import { formatStatus } from './status-format.js';

const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3'] as const;
const apiPort = 8080;
const peerPort = 8081;
const mainPath = fileURLToPath(new URL('./main.js', import.meta.url));
const readyTimeoutMs = 60_000;
const pollMs = 200;
const joinTokenTtlSeconds = 600;

interface LocalNode {
  readonly host: string;
  readonly dataDir: string;
  child: ChildProcess | null;
}

function options(node: LocalNode): GlobalOptions {
  return { endpoints: '', endpointsGiven: false, dataDir: node.dataDir };
}

/** The server of one data directory, in its own process group: Ctrl-C reaches only this command. */
async function startServer(node: LocalNode): Promise<void> {
  const log = await open(join(node.dataDir, 'quorate.log'), 'a', 0o600);
  node.child = spawn(process.execPath, [mainPath, 'server', '--data-dir', node.dataDir], { stdio: ['ignore', log.fd, log.fd], detached: true });
  await once(node.child, 'spawn');
  await log.close();
}

/** Polls the node until `ready` accepts its view of the cluster; fails with the log's place when it exits or time runs out. */
async function waitFor(node: LocalNode, what: string, ready: (view: ClusterStatusJson) => boolean): Promise<ClusterStatusJson> {
  const client = await clientFor(options(node));
  const view = await untilExitOr(Date.now() + readyTimeoutMs, () => node.child?.exitCode ?? null, pollMs, async () => {
    const status = await client.clusterStatus().catch(() => null);
    return status !== null && ready(status) ? status : null;
  });
  if (view === null) throw new CliError(`${what} did not happen within ${readyTimeoutMs / 1000} s; see ${join(node.dataDir, 'quorate.log')}`);
  return view;
}

async function runLocalCluster(dirOption: string): Promise<void> {
  const { DataDir } = await import('../cluster/data-dir.js');
  const root = resolve(dirOption);
  await mkdir(root, { recursive: true, mode: 0o700 });
  const nodes: LocalNode[] = hosts.map((host) => ({ host, dataDir: join(root, host), child: null }));
  const [first, ...others] = nodes as [LocalNode, ...LocalNode[]];
  const stopAll = async (): Promise<void> => {
    const running = nodes.flatMap((n) => (n.child === null || n.child.exitCode !== null ? [] : [n.child]));
    for (const child of running) child.kill('SIGTERM');
    await Promise.all(running.map((child) => once(child, 'exit')));
  };
  // Ctrl-C while the cluster forms must stop what already runs, not leave it behind.
  const interrupted = untilSignal().then(async (signal) => {
    await stopAll();
    return signal;
  });
  try {
    const initialized = await Promise.all(nodes.map((n) => new DataDir(n.dataDir).isInitialized()));
    // Nodes that exist start together: a restarted cluster needs a majority up to elect a leader.
    for (const [i, node] of nodes.entries()) if (initialized[i] === true) await startServer(node);
    if (initialized[0] !== true) {
      print(`initializing a new cluster in ${root}\n`);
      await createFoundingNode(first.dataDir, { advertise: first.host, clusterName: 'quorate', apiPort, peerPort });
      await startServer(first);
    }
    for (const [i, node] of others.entries()) {
      if (initialized[i + 1] === true) continue;
      await waitFor(first, `${first.host} knowing a leader`, (view) => view.leader !== null && view.quorum.ok);
      const { token } = await (await clientFor(options(first))).createJoinToken('server', joinTokenTtlSeconds);
      const servers = nodes.filter((n) => n.child !== null).map((n) => `${n.host}:${apiPort}`);
      const admitted = await admitNode(node.dataDir, { role: 'server', token, advertise: node.host, servers, apiPort, peerPort, promote: 'auto', waitMs: readyTimeoutMs });
      print(`${admitted.nodeId} admitted\n`);
      await startServer(node);
    }
    const view = await waitFor(first, 'three voters in quorum', (status) => status.voters === hosts.length && status.quorum.ok && status.members.every((m) => m.state === 'ready'));
    const dir = relative(process.cwd(), root) || '.';
    print(
      [
        '',
        formatStatus(view),
        `API: https://${hosts.join(':8080, https://')}:8080, with the cluster CA in ${dir}/<host>/tls/ca.crt; logs in ${dir}/<host>/quorate.log`,
        'try, in another terminal:',
        `  npx quorate --data-dir ${dir}/127.0.0.1 kv put greeting hello`,
        `  npx quorate --data-dir ${dir}/127.0.0.2 kv get greeting`,
        `  npx quorate --data-dir ${dir}/127.0.0.3 cluster status`,
        `  curl --cacert ${dir}/127.0.0.1/tls/ca.crt -H "Authorization: Bearer $(cat ${dir}/127.0.0.1/admin.token)" https://127.0.0.1:8080/v1/status`,
        'Ctrl-C stops the cluster; run it again to start the same cluster on its data.',
        '',
      ].join('\n'),
    );
    const exited = nodes.map((node) =>
      node.child === null ? Promise.resolve() : once(node.child, 'exit').then(([code]) => print(`${node.host} exited (${String(code)}); see ${join(node.dataDir, 'quorate.log')}\n`)),
    );
    await interrupted;
    await Promise.all(exited);
  } catch (error) {
    await stopAll();
    throw error;
  }
}

export function addLocalClusterCommand(program: Command): void {
  program
    .command('local-cluster')
    .description('run a 3-node cluster on 127.0.0.1-3 in the foreground, formed with init and join (what npm start runs)')
    .option('--dir <path>', 'where the three data directories go', '.quorate')
    .action((options: { dir: string }) => runLocalCluster(options.dir));
}
