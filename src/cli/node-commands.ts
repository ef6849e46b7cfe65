/**
 * `quorate node list`, `node info <id>`, `node remove <id>`, `node drain <id>`,
 * `node eligibility <id>` and `quorate cluster leave`.
 *
 * list merges the Raft members' own reports with the leader's view of the nodes that run jobs
 * (node-list.ts); without a leader the members are still listed, with `? jobs`. info shows one
 * member's report. remove takes a dead member out through the log (quorum needed); leave is run
 * on the node that goes: it hands leadership over if it leads, removes itself, stops, and marks
 * its data directory so it does not start again. Replacing a lost server is `leave` or
 * `remove`, then a new `join` (seed 000). drain moves a node's allocations away one at a time
 * (and places nothing new there) and waits, showing what is left, until the node runs nothing
 * (drain-follow.ts; --no-wait returns at once); eligibility allows or stops new placements, leaving the
 * allocations the node runs.
 */
import type { Command } from 'commander';
import type { ClusterStatusJson, MemberViewJson, NodeViewJson } from '../api/index.js';
import { QuorateClientError, type QuorateClient } from '../client/index.js';
import { CliError, clientFor, globalOptions, print, printJson } from './context.js';
import { followDrain } from './drain-follow.js';
import { formatNodeList, memberRole, nodeList } from './node-list.js';
import { ProgressLine } from './progress.js';
import { stopLocalNode } from './stop-command.js';

const gib = 1024 ** 3;

/** Without a leader the workload view is unavailable, but the members' own reports still are. */
async function nodesOrNull(client: QuorateClient): Promise<readonly NodeViewJson[] | null> {
  try {
    return await client.nodes();
  } catch (error) {
    if (error instanceof QuorateClientError) return null;
    throw error;
  }
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const parts = [[Math.floor(s / 86_400), 'd'], [Math.floor(s / 3600) % 24, 'h'], [Math.floor(s / 60) % 60, 'm'], [s % 60, 's']] as const;
  const shown = parts.filter(([n]) => n > 0).map(([n, unit]) => `${n}${unit}`);
  return shown.length === 0 ? '0s' : shown.join(' ');
}

export function formatNodeInfo(view: ClusterStatusJson, member: MemberViewJson): string {
  const r = member.report;
  const lines = [
    `node:         ${member.id}`,
    `role:         ${memberRole(member)}${r === null ? '' : ` (${r.role})`}`,
    `state:        ${member.state}`,
    `peer address: ${member.address}`,
    `api address:  ${member.apiAddress}`,
    `leader:       ${view.leader ?? 'none'}`,
    `last contact: ${member.lastContactMs === null ? 'never' : `${(member.lastContactMs / 1000).toFixed(1)}s ago`} (as ${view.observer} sees it)`,
  ];
  if (r === null) {
    lines.push(`unreachable:  ${member.error ?? 'no answer'}`);
  } else {
    lines.push(
      `term:         ${r.term}`,
      `applied:      ${r.appliedIndex}`,
      `commit:       ${r.commitIndex}`,
      `clock offset: ${member.clockOffsetMs === null ? '?' : `${Math.round(member.clockOffsetMs)} ms`}`,
      `certificate:  expires ${r.certificateNotAfter}`,
      `version:      ${r.version}`,
      `uptime:       ${duration(r.uptimeMs)}`,
      `memory:       ${(r.freeMemoryBytes / gib).toFixed(1)} GB free of ${(r.totalMemoryBytes / gib).toFixed(1)} GB`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function leave(command: Command): Promise<void> {
  const global = globalOptions(command);
  const left = await (await clientFor(global)).leave();
  const { DataDir, resolveDataDir } = await import('../cluster/data-dir.js');
  await new DataDir(resolveDataDir(global.dataDir)).markLeft();
  await stopLocalNode(global.dataDir);
  print(`${left} left the cluster and stopped; its data directory can be removed\n`);
}

export function formatWorkerInfo(node: NodeViewJson): string {
  const labels = Object.entries(node.labels).map(([k, v]) => `${k}=${v}`);
  const lines = [
    `node:         ${node.id}`,
    `role:         ${node.role}`,
    `state:        ${node.status}${node.draining ? ' (draining)' : ''}${node.eligible ? '' : ' (ineligible)'}`,
    `address:      ${node.address}`,
    `api address:  ${node.apiAddress}`,
    `last contact: ${node.lastHeartbeatMs === null ? 'never (as the leader sees it)' : `${(node.lastHeartbeatMs / 1000).toFixed(1)}s ago (heartbeat, as the leader sees it)`}`,
    `jobs:         ${node.jobs}`,
    `offers:       ${node.memoryMb} MB, ${node.cpu} cpu`,
    `memory:       ${node.freeMemoryMb === null ? '?' : `${(node.freeMemoryMb / 1024).toFixed(1)} GB`} free`,
    `labels:       ${labels.length === 0 ? 'none' : labels.join(', ')}`,
    `watchdog:     ${node.watchdogTimeoutMs / 1000} s`,
    ...(node.fencing === null ? [] : [`fencing:      ${node.fencing}`]),
  ];
  return `${lines.join('\n')}\n`;
}

export function addLeaveCommand(cluster: Command): void {
  cluster
    .command('leave')
    .description('take this node out of the cluster: hand leadership over, remove it through the log, stop it')
    .action((_options: object, command: Command) => leave(command));
}

function listCommand(node: Command): void {
  node
    .command('list')
    .description('every node: id, role, readiness, free memory, jobs, and whether it is draining or ineligible')
    .action(async (_options: object, command: Command) => {
      const client = await clientFor(globalOptions(command));
      const [status, nodes] = await Promise.all([client.clusterStatus(), nodesOrNull(client)]);
      const entries = nodeList(status, nodes);
      if (globalOptions(command).json === true) printJson(entries);
      else print(formatNodeList(entries));
    });
}

function drainCommand(node: Command): void {
  node
    .command('drain')
    .description("move the node's allocations to other nodes, one at a time, and place nothing new on it")
    .argument('<id>', 'the node id')
    .option('--disable', 'stop draining: the node takes allocations again')
    .option('--no-wait', 'return once the drain is recorded instead of waiting until the node runs nothing')
    .action(async (id: string, options: { disable?: boolean; wait: boolean }, command: Command) => {
      const global = globalOptions(command);
      const draining = options.disable !== true;
      const client = await clientFor(global);
      await client.drainNode(id, draining);
      const json = global.json === true;
      if (!draining || !options.wait) {
        if (json) printJson({ node: id, draining });
        else print(draining ? `${id} draining: its allocations move to other nodes one at a time\n` : `${id} no longer draining\n`);
        return;
      }
      if (json) {
        await followDrain(client, id, null);
        printJson({ node: id, draining, drained: true });
        return;
      }
      print(`${id} draining: its allocations move to other nodes one at a time (Ctrl-C stops waiting, not the drain)\n`);
      const progress = new ProgressLine();
      await followDrain(client, id, progress);
      progress.finish(`${id} drained: it runs no allocations`);
    });
}

function confirmDeadCommand(node: Command): void {
  node
    .command('confirm-dead')
    .description('vouch that a lost node is off (seed 003): everything it ran, frozen jobs included, is replaced')
    .argument('<id>', 'the node id')
    .action(async (id: string, _options: object, command: Command) => {
      const global = globalOptions(command);
      await (await clientFor(global)).confirmDead(id);
      if (global.json === true) printJson({ node: id, confirmedDead: true });
      else print(`${id} confirmed dead: its jobs are replaced\n`);
    });
}

function eligibilityCommand(node: Command): void {
  node
    .command('eligibility')
    .description('allow (--enable) or stop (--disable) new placements on the node; what it runs stays')
    .argument('<id>', 'the node id')
    .option('--enable', 'the node may get new allocations')
    .option('--disable', 'no new allocations on the node')
    .action(async (id: string, options: { enable?: boolean; disable?: boolean }, command: Command) => {
      if ((options.enable === true) === (options.disable === true)) throw new CliError('give exactly one of --enable and --disable');
      const global = globalOptions(command);
      const eligible = options.enable === true;
      await (await clientFor(global)).setNodeEligibility(id, eligible);
      if (global.json === true) printJson({ node: id, eligible });
      else print(eligible ? `${id} eligible for new allocations\n` : `${id} ineligible: no new allocations (the ones it runs stay)\n`);
    });
}

export function addNodeCommands(program: Command): void {
  const node = program.command('node').description('the cluster nodes');
  listCommand(node);
  node
    .command('info')
    .description("one node's addresses, role, term, indexes, clock, certificate, version and uptime")
    .argument('<id>', 'the node id')
    .action(async (id: string, _options: object, command: Command) => {
      const client = await clientFor(globalOptions(command));
      const status = await client.clusterStatus();
      const member = status.members.find((m) => m.id === id);
      // A worker is no Raft member: what the cluster knows of it is its workload record.
      const worker = member === undefined ? (await client.nodes()).find((n) => n.id === id) : undefined;
      if (member === undefined && worker === undefined) throw new CliError(`there is no node ${id}; \`quorate node list\` shows the nodes`);
      if (globalOptions(command).json === true) printJson(member ?? worker);
      else if (member !== undefined) print(formatNodeInfo(status, member));
      else if (worker !== undefined) print(formatWorkerInfo(worker));
    });
  node
    .command('remove')
    .description('remove a (dead) node through the log; needs quorum. A live node leaves with `cluster leave`')
    .argument('<id>', 'the node id')
    .action(async (id: string, _options: object, command: Command) => {
      await (await clientFor(globalOptions(command))).removeMember(id);
      print(`${id} removed\n`);
    });
  drainCommand(node);
  eligibilityCommand(node);
  confirmDeadCommand(node);
}
