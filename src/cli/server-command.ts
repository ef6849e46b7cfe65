/**
 * `quorate server [--config FILE]`: run a server until SIGTERM or SIGINT, then close the API
 * (so clients move to other endpoints at once) and stop the node, handing leadership over
 * first. With --config it is a static bootstrap from a TOML file (seed 002); without, the
 * node made by `quorate cluster init` or `join` in the data directory (what the systemd unit
 * runs), which also records its pid there for `quorate stop`. The server modules are imported
 * only when this command runs, so the client commands start fast and do not depend on them.
 */
import type { Command } from 'commander';
import type { ApiServer } from '../api/index.js';
import type { GrpcServer } from '../grpc/index.js';
import type { AdmissionSecrets, ServerConfig, TlsMaterial } from '../server/index.js';
import { QuorateError } from '../util/errors.js';
import type { LogLevel } from '../util/log.js';
import { CliError, globalOptions, print, untilSignal } from './context.js';

export interface RunningServer {
  readonly apiUrl: string;
}

export interface ServeOptions {
  readonly config: ServerConfig;
  /** What lets the node admit others (servers in a data directory). */
  readonly admission?: AdmissionSecrets;
  /** Called once the node and its API run, before waiting for a signal. */
  readonly started?: (server: RunningServer) => Promise<void>;
  /** The least severe lines logged (--log-level); info by default. */
  readonly logLevel?: LogLevel | undefined;
}

/** Runs a node with its API until a signal; resolves once it has stopped. */
export async function serve(options: ServeOptions): Promise<void> {
  const { config } = options;
  const { ServerNode, formatHostPort, goOnAlone, switchableService, watchHeapMode } = await import('../server/index.js');
  const { startApiServer } = await import('../api/index.js');
  const { startNodeGrpc } = await import('../grpc/index.js');
  const { stderrLogger, withFields } = await import('../util/log.js');
  const log = stderrLogger({ node: config.nodeId }, options.logLevel);
  const nodeOptions = { log, ...(options.admission === undefined ? {} : { admission: options.admission }) };
  let node = await ServerNode.start(config, nodeOptions);
  // The node's own lines carry its term; these carry the term of whichever node serves now.
  const serveLog = withFields(log, () => ({ term: node.term }));
  const service = switchableService(node.service);
  let api: ApiServer;
  let grpc: GrpcServer | null;
  try {
    // HTTPS with the node's certificate (clients trust the cluster CA; agents present theirs).
    // One metrics registry for the node and the API, kept across a two_node restart below.
    api = await startApiServer(service.service, { ...config.api, log: serveLog, metrics: node.metrics.registry, ...(config.insecureApi ? {} : { tls: node.tls.material }) });
    // The etcd-compatible API follows `node`, which a two_node restart below replaces.
    grpc = await startNodeGrpc(config, () => node, serveLog).catch(async (error: unknown) => {
      await api.close();
      throw error;
    });
  } catch (error) {
    await node.stop();
    throw error;
  }
  const renewed = (material: TlsMaterial): void => {
    api.updateTls(material);
    grpc?.updateTls(material);
  };
  node.tls.on('changed', renewed);
  serveLog.log('info', `listening on ${api.url} (API)${grpc === null ? '' : `, ${grpc.address} (etcd gRPC API)`} and ${formatHostPort(config.listen)} (peers)`);
  const signal = untilSignal();
  const stopHeapWatch = watchHeapMode(serveLog);
  let failure: unknown = null;
  try {
    await options.started?.({ apiUrl: api.url });
    for (;;) {
      // A node whose Raft driver stopped must not linger serving stale answers: it exits non-zero
      // (and systemd's Restart=on-failure starts it again from its durable state).
      const events = node.events;
      const fatal = new Promise<{ error: unknown }>((resolve) => events.once('fatal', (error) => resolve({ error })));
      const takeover = new Promise<{ peer: string; detail: string }>((resolve) => events.once('takeover', (peer, detail) => resolve({ peer, detail })));
      const stopped = await Promise.race([signal, fatal, takeover]);
      if (typeof stopped === 'string') {
        serveLog.log('info', `${stopped}: stopping`);
        break;
      }
      if ('error' in stopped) {
        failure = stopped.error;
        break;
      }
      // two_node: the peer is fenced; this node becomes the only voter and starts again.
      await node.stop();
      await goOnAlone(config.dataDir, config.nodeId, stopped.peer, stopped.detail, Date.now());
      node = await ServerNode.start(config, { ...nodeOptions, metrics: node.metrics.registry });
      node.tls.on('changed', renewed);
      renewed(node.tls.material);
      service.switchTo(node.service);
      serveLog.log('warn', 'two_node: restarted as the only voter; the fenced peer must be wiped and joined again', { peer: stopped.peer });
    }
  } finally {
    stopHeapWatch();
    await grpc?.close();
    await api.close();
    await node.stop({ transferLeadership: failure === null });
  }
  if (failure !== null) throw new QuorateError('fatal', `node ${config.nodeId} stopped: its Raft driver failed (${failure instanceof Error ? failure.message : JSON.stringify(failure)}); it exits so that it is restarted from its durable state`);
}

/** The node in a data directory, with the pid file that `quorate stop` reads. */
export async function serveDataDir(path: string, started?: (server: RunningServer) => Promise<void>, logLevel?: LogLevel): Promise<void> {
  const { DataDir } = await import('../cluster/data-dir.js');
  const { joiningCluster, serverConfigFromDataDir } = await import('../server/index.js');
  const { writePidFile, removePidFile } = await import('./pid-file.js');
  const dir = new DataDir(path);
  const identity = await dir.readIdentity();
  if (identity.role === 'worker') {
    const { serveAgent } = await import('./agent-command.js');
    await serveAgent(dir, () => void started?.({ apiUrl: `https://${identity.advertise}:${identity.apiPort}` }), logLevel);
    return;
  }
  await dir.assertPrivate();
  const left = await dir.leftAt();
  if (left !== null) {
    throw new QuorateError('left', `node ${identity.nodeId} left its cluster at ${left} and must not start again: remove ${dir.path} and join afresh (\`quorate cluster join\`)`);
  }
  const adminToken = await dir.readAdminToken();
  const admission = adminToken === null ? {} : { admission: { adminToken } };
  const config = serverConfigFromDataDir(dir, identity, joiningCluster(identity, await dir.readJoinVia()));
  await writePidFile(dir.pidPath);
  try {
    await serve({ config, ...admission, ...(started === undefined ? {} : { started }), logLevel });
  } finally {
    await removePidFile(dir.pidPath);
  }
}

/** The one line a started server prints (tests and scripts wait for it). */
function announce(what: string): (server: RunningServer) => Promise<void> {
  return ({ apiUrl }) => {
    print(`quorate server: ${what} listening on ${apiUrl} (API)\n`);
    return Promise.resolve();
  };
}

export function addServerCommand(program: Command): void {
  program
    .command('server')
    .description('run a server: the initialized node in the data directory, or a static bootstrap with --config')
    .option('--config <file>', 'a TOML file for a static bootstrap (seed 002) instead of the data directory')
    .option('--insecure-api', 'serve the API over plain HTTP instead of HTTPS; only on a loopback api_address (with --config)')
    .action(async (options: { config?: string; insecureApi?: true }, command: Command) => {
      if (options.config !== undefined) {
        const { loadServerConfig, withInsecureApi } = await import('../server/index.js');
        const loaded = loadServerConfig(options.config);
        const config = options.insecureApi === true ? withInsecureApi(loaded) : loaded;
        await serve({ config, started: announce(`node ${config.nodeId}`), logLevel: globalOptions(command).logLevel });
        return;
      }
      if (options.insecureApi === true) throw new CliError('--insecure-api applies to a static bootstrap (--config); a node in a data directory always serves HTTPS');
      const { resolveDataDir } = await import('../cluster/data-dir.js');
      const { dataDir, logLevel } = globalOptions(command);
      const path = resolveDataDir(dataDir);
      await serveDataDir(path, announce(`node in ${path}`), logLevel);
    });
}
