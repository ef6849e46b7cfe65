/**
 * The `quorate` command tree. Global options may come before or after the subcommand:
 * --endpoints (comma-separated API URLs; default $QUORATE_ENDPOINTS or https://127.0.0.1:8080),
 * --json (machine-readable output), --timeout (milliseconds per request), and for remote
 * endpoints --ca-file or --ca-pin, and --admin-token (default $QUORATE_ADMIN_TOKEN): on a server's own machine the CLI
 * reads the CA and the admin token from the data directory instead. --log-level (default
 * $QUORATE_LOG_LEVEL or info) applies to the processes that run a node: server, agent, arbiter.
 */
import { Command, Option } from 'commander';
import { logLevels } from '../util/log.js';
import { defaultEndpoint, parseCount } from './context.js';
import { addAclCommands } from './acl-commands.js';
import { addAgentCommand } from './agent-command.js';
import { addClusterCommands } from './cluster-commands.js';
import { addEventsCommand } from './events-command.js';
import { addFenceCommands } from './fence-commands.js';
import { addJobCommands } from './job-commands.js';
import { addKvCommands } from './kv-commands.js';
import { addLeaseCommands } from './lease-commands.js';
import { addLocalClusterCommand } from './local-cluster-command.js';
import { addNodeCommands } from './node-commands.js';
import { addServerCommand } from './server-command.js';
import { addStopCommand } from './stop-command.js';

export function buildProgram(): Command {
  const program = new Command('quorate')
    .description('Quorate: a Raft-replicated control plane for small high-availability clusters')
    .addOption(new Option('--endpoints <urls>', 'API endpoints, comma-separated; tried in order when one is unreachable').env('QUORATE_ENDPOINTS').default(defaultEndpoint))
    .addOption(new Option('--data-dir <dir>', "this node's data directory (default /var/lib/quorate)").env('QUORATE_DATA_DIR'))
    .option('--ca-file <file>', 'the cluster CA certificate (PEM) for https:// endpoints')
    .addOption(new Option('--ca-pin <sha256>', "trust the endpoint's CA if its fingerprint is this (sha256:..., from `quorate cluster ca show`)").env('QUORATE_CA_PIN'))
    .addOption(new Option('--admin-token <token>', 'the admin token for calls to --endpoints').env('QUORATE_ADMIN_TOKEN'))
    // Not --token: `cluster join` and `agent` take a join token under that name.
    .addOption(new Option('--api-token <token>', 'an API token (quorate acl token create) for every call; wins over the admin token').env('QUORATE_API_TOKEN'))
    .option('--json', 'print JSON instead of text')
    .option('--timeout <ms>', 'time allowed for each request', parseCount)
    // Global so that `cluster init` and `join` can pass it on to the server they start in the background.
    .addOption(new Option('--log-level <level>', 'the least severe log lines a server, agent or arbiter writes').choices(logLevels).env('QUORATE_LOG_LEVEL').default('info'))
    .showHelpAfterError()
    .exitOverride();
  addClusterCommands(program);
  addAclCommands(program);
  addStopCommand(program);
  addAgentCommand(program);
  addFenceCommands(program);
  addNodeCommands(program);
  addJobCommands(program);
  addEventsCommand(program);
  addKvCommands(program);
  addLeaseCommands(program);
  addServerCommand(program);
  addLocalClusterCommand(program);
  return program;
}
