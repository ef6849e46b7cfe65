/**
 * `quorate server --config FILE`: run one voting member with its HTTP API until SIGTERM or
 * SIGINT, then close the API (so clients move to other endpoints at once) and stop the node,
 * handing leadership over first. The server modules are imported only when this command
 * runs, so the client commands start fast and do not depend on them.
 */
import type { Command } from 'commander';
import { print, untilSignal } from './context.js';

async function runServer(configPath: string): Promise<void> {
  const { loadServerConfig, ServerNode, formatHostPort } = await import('../server/index.js');
  const { startApiServer } = await import('../api/index.js');
  const { jsonLogger } = await import('../util/log.js');
  const config = loadServerConfig(configPath);
  const log = jsonLogger({ node: config.nodeId });
  const node = await ServerNode.start(config, { log });
  let api;
  try {
    api = await startApiServer(node.service, { ...config.api, log: (message) => log.log('error', message) });
  } catch (error) {
    await node.stop();
    throw error;
  }
  print(`quorate server: node ${config.nodeId} listening on ${api.url} (API) and ${formatHostPort(config.listen)} (peers)\n`);
  const signal = await untilSignal();
  log.log('info', `${signal}: stopping`);
  await api.close();
  await node.stop({ transferLeadership: true });
}

export function addServerCommand(program: Command): void {
  program
    .command('server')
    .description('run a voting member of a cluster (static bootstrap from a TOML file)')
    .requiredOption('--config <file>', 'the TOML configuration file')
    .action((options: { config: string }) => runServer(options.config));
}
