/**
 * `quorate agent --token T --advertise IP --servers a:8080,b:8080,c:8080` (seed 000's workers).
 *
 * The first run joins with a worker token exactly as `cluster join` does (the CA is pinned by
 * the token before the secret is sent) but the node never becomes a Raft member: it is recorded
 * as a node that runs jobs, gets a certificate, and writes a worker data directory (node.json,
 * tls/, agent.json). Then, as every later `quorate agent` or `quorate server --data-dir` on that
 * directory, it runs the agent: heartbeats to the servers (moving on when one dies), runs its
 * allocations, serves their logs, and fences itself when no leader answers (workload/agent.ts).
 * It starts in the background (log in quorate.log) unless --foreground, and waits until the
 * leader has answered it.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { AgentSettings, DataDir, NodeIdentity } from '../cluster/data-dir.js';
import { CliError, globalOptions, parseCount, parsePort, print, untilSignal } from './context.js';
import { getJson } from '../util/https-json.js';
import type { LogLevel } from '../util/log.js';
import { admitNode } from './join-commands.js';
import { parseLabels } from './labels.js';
import { startInBackground, untilExitOr } from './server-launch.js';

const readyTimeoutMs = 30_000;
const readyPollMs = 200;

interface AgentOptions {
  readonly token?: string;
  readonly advertise?: string;
  readonly servers?: string;
  readonly nodeId?: string;
  readonly apiPort: number;
  readonly labels?: string;
  readonly memory?: number;
  readonly cpu?: string;
  readonly watchdogTimeout?: string;
  readonly watchdogDevice?: string;
  readonly foreground?: boolean;
  readonly wait: string;
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

async function agent(options: AgentOptions, command: Command): Promise<void> {
  const { DataDir, resolveDataDir } = await import('../cluster/data-dir.js');
  const { parseDuration } = await import('../util/duration.js');
  const { defaultWatchdogTimeoutMs } = await import('../server/config.js');
  const { dataDir, logLevel } = globalOptions(command);
  const dir = new DataDir(resolveDataDir(dataDir));
  const servers = options.servers === undefined ? null : list(options.servers);
  if (!(await dir.isInitialized())) {
    if (options.token === undefined || options.advertise === undefined || servers === null) {
      throw new CliError(`${dir.path} holds no node yet: the first \`quorate agent\` needs --token (a worker token from \`quorate cluster join-token --role worker\`), --advertise and --servers`);
    }
    const admitted = await admitNode(dir.path, {
      role: 'worker',
      token: options.token,
      advertise: options.advertise,
      servers,
      apiPort: options.apiPort,
      // Workers speak no Raft: the API port stands in for the peer port the admission records.
      peerPort: options.apiPort,
      promote: 'auto',
      waitMs: parseDuration(options.wait, '--wait'),
      ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }),
    });
    print(`admitted as ${admitted.nodeId} (a worker: it runs jobs and never votes); starting the agent\n`);
  }
  const identity = await dir.readIdentity();
  if (identity.role !== 'worker') throw new CliError(`${dir.path} holds server ${identity.nodeId}; servers run jobs themselves. Give the agent its own --data-dir`);
  const known = await dir.readAgentSettings().catch(() => null);
  const serverList = servers ?? known?.servers;
  if (serverList === undefined || serverList.length === 0) throw new CliError('--servers: name the servers to heartbeat to, as host:port, comma-separated (pass them all)');
  const cpu = options.cpu === undefined ? (known?.cpu ?? null) : Number(options.cpu);
  if (cpu !== null && !(cpu >= 0)) throw new CliError(`--cpu must be a number of cpus, not "${String(options.cpu)}"`);
  const settings: AgentSettings = {
    servers: serverList,
    labels: options.labels === undefined ? (known?.labels ?? {}) : parseLabels(options.labels),
    memoryMb: options.memory ?? known?.memoryMb ?? null,
    cpu,
    watchdogTimeoutMs: options.watchdogTimeout === undefined ? (known?.watchdogTimeoutMs ?? defaultWatchdogTimeoutMs) : parseDuration(options.watchdogTimeout, '--watchdog-timeout'),
    watchdogDevice: options.watchdogDevice ?? known?.watchdogDevice ?? null,
  };
  await dir.writeAgentSettings(settings);
  if (options.foreground === true) {
    await serveAgent(
      dir,
      () => {
        print(`quorate agent: ${identity.nodeId} running\n`);
      },
      logLevel,
    );
    return;
  }
  const exited = startInBackground(dir.path, dir.logPath, logLevel);
  const { caCertPem } = await dir.readTls();
  const url = `https://${identity.advertise}:${identity.apiPort}/v1/health`;
  const health = await untilExitOr(Date.now() + readyTimeoutMs, () => exited.code, readyPollMs, () => agentHealth(url, caCertPem));
  if (health === null) throw new CliError(`the agent did not reach a leader within ${readyTimeoutMs / 1000} s; see ${dir.logPath}`);
  print(`agent started\nnode-id:  ${identity.nodeId}\nstate:    ready\nleader:   ${health.leader}\n`);
}

/** The agent's own /v1/health, once it has a leader's answer; null before. */
async function agentHealth(url: string, ca: string): Promise<{ readonly leader: string } | null> {
  const answer = await getJson(url, { ca }, 1000).catch(() => null);
  const leader = (answer?.body as { leader?: unknown } | undefined)?.leader;
  return answer?.status === 200 && typeof leader === 'string' ? { leader } : null;
}

/** Run the worker in `dir` until SIGTERM or SIGINT; its jobs go on under the fence meanwhile. */
export async function serveAgent(dir: DataDir, started?: () => void, logLevel?: LogLevel): Promise<void> {
  const identity: NodeIdentity = await dir.readIdentity();
  await dir.assertPrivate();
  const settings = await dir.readAgentSettings();
  const { HttpLink, heartbeatAttemptMs, startAgent } = await import('../workload/index.js');
  const { startAgentApi } = await import('../api/index.js');
  const { NodeTls } = await import('../server/node-tls.js');
  const { stderrLogger } = await import('../util/log.js');
  const { writePidFile, removePidFile } = await import('./pid-file.js');
  const log = stderrLogger({ node: identity.nodeId }, logLevel);
  const timeoutMs = heartbeatAttemptMs(settings.watchdogTimeoutMs);
  // Picks up replaced files; the leader renews the certificate and carries it through CA rotations.
  const address = { host: identity.advertise, port: identity.apiPort };
  const files = { kind: 'files' as const, caFile: dir.caCertPath, certFile: dir.nodeCertPath, keyFile: dir.nodeKeyPath };
  const tls = await NodeTls.load({ nodeId: identity.nodeId, clusterName: identity.clusterName, advertise: address, api: address, tls: files }, log);
  tls.start();
  const link = new HttpLink({
    servers: settings.servers,
    identity: () => tls.material,
    tls: {
      report: () => {
        const { trustedCas, certificateIssuer, certificateNotAfter } = tls.info();
        return { trustedCas, certificateIssuer, certificateNotAfter };
      },
      install: (grant) => tls.install(grant),
    },
    timeoutMs,
    // Kept for the next start: the servers given at the first run may be gone by then.
    onServers: (servers) => {
      dir.writeAgentSettings({ ...settings, servers }).catch((error: unknown) => log.log('warn', 'could not save the servers list', { reason: (error as Error).message }));
      log.log('info', 'the servers changed; heartbeats go to them from now on', { servers: servers.join(',') });
    },
  });
  const apiAddress = `${identity.advertise}:${identity.apiPort}`;
  const running = await startAgent({
    id: identity.nodeId,
    role: 'worker',
    address: identity.advertise,
    apiAddress,
    watchdogTimeoutMs: settings.watchdogTimeoutMs,
    labels: settings.labels,
    ...(settings.memoryMb === null ? {} : { memoryMb: settings.memoryMb }),
    ...(settings.cpu === null ? {} : { cpu: settings.cpu }),
    dir: dir.path,
    link,
    ...(settings.watchdogDevice === null ? {} : { watchdogDevice: settings.watchdogDevice }),
    log,
  });
  let api;
  try {
    api = await startAgentApi({
      host: identity.advertise,
      port: identity.apiPort,
      certPem: tls.material.certPem,
      keyPem: tls.material.keyPem,
      allocationRoot: join(dir.path, 'alloc'),
      logReaders: () => running.logReaders,
      health: () => ({ id: identity.nodeId, leader: running.leader, running: running.runningAllocations().length }),
      log: (message) => log.log('error', message),
    });
  } catch (error) {
    await running.stop('detach');
    link.close();
    tls.stop();
    throw error;
  }
  const served = api;
  tls.on('changed', (material) => served.updateTls(material.certPem, material.keyPem));
  await writePidFile(dir.pidPath);
  log.log('info', `agent ${identity.nodeId} listening on ${api.url} (logs); heartbeats to ${settings.servers.join(', ')}`);
  try {
    started?.();
    const signal = await untilSignal();
    log.log('info', `${signal}: stopping the agent; its jobs keep running until the watchdog timeout unless it comes back`);
  } finally {
    await api.close();
    await running.stop('detach');
    link.close();
    tls.stop();
    await removePidFile(dir.pidPath);
  }
}

export function addAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('run this machine as a worker: it runs jobs and never votes (the first run joins with a worker token)')
    .option('--token <token>', 'a worker join token from `quorate cluster join-token --role worker` (first run only)')
    .option('--advertise <ip>', 'the IP address the servers and the jobs\' clients reach this machine at (first run only)')
    .option('--servers <list>', 'the servers\' APIs, host:port, comma-separated; pass them all (seed 000)')
    .option('--node-id <id>', 'the node id (default node-N for an advertise address ending in .N)')
    .option('--api-port <port>', 'the port this worker serves its jobs\' logs on', parsePort, 8080)
    .option('--labels <pairs>', 'labels for job constraints, e.g. rack=r1,zone=a')
    .option('--memory <mb>', 'memory offered to jobs, in MB (default: the machine\'s total)', parseCount)
    .option('--cpu <n>', 'cpus offered to jobs (default: the machine\'s count)')
    .option('--watchdog-timeout <duration>', 'stop every job when no leader has answered for this long (default 5s)')
    .option('--watchdog-device <path>', 'a hardware watchdog to feed while a leader answers, e.g. /dev/watchdog (resets a cut-off or hung machine)')
    .option('--foreground', 'stay attached (for systemd or containers) instead of starting in the background')
    .option('--wait <duration>', 'how long to keep trying the servers for admission', '60s')
    .action((options: AgentOptions, command: Command) => agent(options, command));
}
