/**
 * `quorate fence <node>` (run the fence devices against it now: Pacemaker's `stonith_admin
 * --fence`), `quorate fence history` and `quorate fence config [FILE]` (show the fencing setup,
 * or replace it from a file: workload/fencing-file.ts describes the format).
 */
import type { Command } from 'commander';
import type { FencingJson } from '../api/index.js';
import type { FencingConfig } from '../client/index.js';
import { CliError, clientFor, globalOptions, print, printJson } from './context.js';

export function formatFencingConfig(config: FencingConfig): string {
  const lines = [
    `watchdog fencing: ${config.watchdog ? `on (a lost node counts as fenced ${config.fenceDelayMs === null ? 'its watchdog timeout + 1 s' : `${config.fenceDelayMs / 1000} s`} after its last heartbeat)` : 'off (only a fence device can fence a node)'}`,
  ];
  if (config.twoNode === true) lines.push('two_node:         on (two voters; the survivor goes on alone once a device has fenced its peer)');
  if (config.levels.length === 0) lines.push('fence devices:    none');
  for (const level of [...config.levels].sort((a, b) => a.level - b.level)) {
    lines.push(`level ${level.level}:`);
    for (const d of level.devices) lines.push(`  ${d.name}: ${[d.command, ...d.args].join(' ')} (timeout ${d.timeoutMs / 1000} s, ${d.retries} retries)`);
  }
  return `${lines.join('\n')}\n`;
}

export function formatFenceHistory(fencing: FencingJson): string {
  if (fencing.history.length === 0) return 'no fencing yet\n';
  return fencing.history.map((e) => `${new Date(e.atMs).toISOString()}  ${e.node}  ${e.method.padEnd(8)}  ${e.outcome.padEnd(6)}  ${e.detail}\n`).join('');
}

export function addFenceCommands(program: Command): void {
  program
    .command('fence')
    .description('fence a node now with the fence devices (its jobs are then replaced); `fence history`; `fence config [FILE]`')
    .argument('<node|history|config>', 'the node to fence, or history, or config')
    .argument('[file]', 'with config: a fencing file (TOML, or JSON for .json) to install')
    .action(async (target: string, file: string | undefined, _options: object, command: Command) => {
      const global = globalOptions(command);
      const client = await clientFor(global);
      if (target === 'history' || (target === 'config' && file === undefined)) {
        const fencing = await client.fencing();
        if (global.json === true) printJson(target === 'history' ? fencing.history : fencing.config);
        else print(target === 'history' ? formatFenceHistory(fencing) : formatFencingConfig(fencing.config));
        return;
      }
      if (target === 'config' && file !== undefined) {
        const { loadFencingFile } = await import('../workload/fencing-file.js');
        const config = await loadFencingFile(file);
        await client.configureFencing(config);
        print(global.json === true ? `${JSON.stringify(config)}\n` : `fencing configured\n${formatFencingConfig(config)}`);
        return;
      }
      if (file !== undefined) throw new CliError(`\`quorate fence ${target}\` takes no file; did you mean \`quorate fence config ${file}\`?`);
      const result = await client.fenceNode(target);
      if (global.json === true) printJson(result);
      else print(result.fenced ? `${target} fenced (${result.detail}); its jobs are replaced\n` : `${target} NOT fenced: ${result.detail}\n`);
      if (!result.fenced) process.exitCode = 1;
    });
}
