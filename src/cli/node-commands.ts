/**
 * `quorate node list`, `node info <id>`, `node remove <id>` and `quorate cluster leave`.
 *
 * list and info read the cluster view any node gathers (every member's own report); list prints
 * seed 000's lines (`node-1   server  ready   3.2 GB free   0 jobs`). remove takes a dead member
 * out through the log (quorum needed); leave is run on the node that goes: it hands leadership
 * over if it leads, removes itself, stops, and marks its data directory so it does not start
 * again. Replacing a lost server is `leave` or `remove`, then a new `join` (seed 000).
 */
import type { Command } from 'commander';
import type { ClusterStatusJson, MemberViewJson } from '../api/index.js';
import { CliError, clientFor, globalOptions, print, printJson } from './context.js';
import { stopLocalNode } from './stop-command.js';

const gib = 1024 ** 3;

function role(member: MemberViewJson): string {
  return member.voter ? 'server' : 'learner';
}

/** Jobs arrive with the workers (issue 7); until then no node runs any. */
function jobs(): string {
  return '0 jobs';
}

export function formatNodeList(view: ClusterStatusJson): string {
  const rows = view.members.map((m) => [m.id, role(m), m.state, m.report === null ? '? free' : `${(m.report.freeMemoryBytes / gib).toFixed(1)} GB free`, jobs()]);
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(cell.length, w[i] ?? 0)), []);
  return rows.map((row) => `${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 1))).join('  ')}\n`).join('');
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
    `role:         ${role(member)}${r === null ? '' : ` (${r.role})`}`,
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

async function view(command: Command): Promise<ClusterStatusJson> {
  return (await clientFor(globalOptions(command))).clusterStatus();
}

async function leave(command: Command): Promise<void> {
  const global = globalOptions(command);
  const left = await (await clientFor(global)).leave();
  const { DataDir, resolveDataDir } = await import('../cluster/data-dir.js');
  await new DataDir(resolveDataDir(global.dataDir)).markLeft();
  await stopLocalNode(global.dataDir);
  print(`${left} left the cluster and stopped; its data directory can be removed\n`);
}

export function addLeaveCommand(cluster: Command): void {
  cluster
    .command('leave')
    .description('take this node out of the cluster: hand leadership over, remove it through the log, stop it')
    .action((_options: object, command: Command) => leave(command));
}

export function addNodeCommands(program: Command): void {
  const node = program.command('node').description('the cluster nodes');
  node
    .command('list')
    .description('every node: id, role, readiness, free memory, jobs')
    .action(async (_options: object, command: Command) => {
      const status = await view(command);
      if (globalOptions(command).json === true) printJson(status.members);
      else print(formatNodeList(status));
    });
  node
    .command('info')
    .description("one node's addresses, role, term, indexes, clock, certificate, version and uptime")
    .argument('<id>', 'the node id')
    .action(async (id: string, _options: object, command: Command) => {
      const status = await view(command);
      const member = status.members.find((m) => m.id === id);
      if (member === undefined) throw new CliError(`there is no node ${id}; \`quorate node list\` shows the nodes`);
      if (globalOptions(command).json === true) printJson(member);
      else print(formatNodeInfo(status, member));
    });
  node
    .command('remove')
    .description('remove a (dead) node through the log; needs quorum. A live node leaves with `cluster leave`')
    .argument('<id>', 'the node id')
    .action(async (id: string, _options: object, command: Command) => {
      await (await clientFor(globalOptions(command))).removeMember(id);
      print(`${id} removed\n`);
    });
}
