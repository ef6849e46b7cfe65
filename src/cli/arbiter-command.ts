/**
 * `quorate arbiter --listen IP:PORT` runs an arbiter process (server/arbiter-host.ts) in the
 * foreground until SIGTERM or SIGINT; `quorate cluster arbiter add IP:PORT` attaches it to the
 * cluster of the node the CLI talks to (server/arbiter-enrollment.ts) and follows it until it
 * votes. One arbiter serves any number of clusters: run `cluster arbiter add` in each.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { clientFor, globalOptions, print, printJson, untilSignal } from './context.js';
import { followJoin } from './join-commands.js';
import { printSummary } from './server-launch.js';

/** Not the servers' default: an arbiter can share a machine with a server of another cluster. */
const defaultArbiterDir = '/var/lib/quorate-arbiter';

async function runArbiter(options: { listen: string }, command: Command): Promise<void> {
  const { ArbiterHost, parseHostPort } = await import('../server/index.js');
  const { stderrLogger } = await import('../util/log.js');
  const listen = parseHostPort(options.listen, '--listen');
  const global = globalOptions(command);
  const dataDir = resolve(global.dataDir ?? defaultArbiterDir);
  const host = await ArbiterHost.start({ dataDir, listen, log: (clusterId) => stderrLogger({ arbiter: options.listen, ...(clusterId === null ? {} : { cluster: clusterId }) }, global.logLevel) });
  print(`quorate arbiter: listening on ${host.address} (certificate ${host.fingerprint}), serving ${host.info().clusters.length} cluster(s) from ${dataDir}\n`);
  const signal = await untilSignal();
  print(`quorate arbiter: ${signal}: stopping\n`);
  await host.stop();
}

async function addArbiter(address: string, options: { fingerprint?: string }, command: Command): Promise<void> {
  const global = globalOptions(command);
  const client = await clientFor(global);
  const added = await client.addArbiter(address, options.fingerprint);
  if (global.json === true) {
    printJson(added);
    return;
  }
  if (options.fingerprint === undefined) print(`the arbiter at ${address} presents ${added.fingerprint}; check it against what \`quorate arbiter\` printed there (pin it next time with --fingerprint)\n`);
  print(`arbiter ${added.nodeId} at ${address} added; it votes once it has caught up\n`);
  printSummary('arbiter added', added.nodeId, await followJoin(client, added.nodeId, () => null));
}

export function addArbiterCommands(program: Command, cluster: Command): void {
  program
    .command('arbiter')
    .description('run an arbiter: a voting member for two-node clusters that stores the log, runs no jobs and never keeps leadership; one process serves many clusters')
    .requiredOption('--listen <ip:port>', 'the address the clusters reach the arbiter at, e.g. 127.0.0.9:8090')
    .action((options: { listen: string }, command: Command) => runArbiter(options, command));
  cluster
    .command('arbiter')
    .description('attach arbiters to this cluster')
    .command('add')
    .description('make the arbiter at ADDRESS a voter of this cluster (two data nodes + an arbiter = three voters)')
    .argument('<address>', 'the ip:port the arbiter listens on')
    .option('--fingerprint <sha256>', "the arbiter's certificate fingerprint, as `quorate arbiter` printed it (recommended)")
    .action((address: string, options: { fingerprint?: string }, command: Command) => addArbiter(address, options, command));
}
