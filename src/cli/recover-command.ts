/**
 * `quorate cluster recover --confirm-lost ID,...`: when a majority of the voters is gone for
 * good, rebuild a one-voter cluster from this (stopped) survivor's data. It keeps what the
 * survivor knows to be committed (entries past its commit index may never have been, so they
 * are dropped), removes every other member, and keeps the CA, the tokens and the KV. Because a
 * lost node that came back would hold the old configuration, the operator must name every
 * other voter, confirming it is dead and will be wiped; the plan is printed before anything is
 * written. This is etcd's `--force-new-cluster` and Consul's peers.json recovery.
 */
import type { Command } from 'commander';
import { CliError, globalOptions, print } from './context.js';
import { runningPid } from './pid-file.js';

async function recover(confirmLost: string, command: Command): Promise<void> {
  const { DataDir, resolveDataDir } = await import('../cluster/data-dir.js');
  const { DiskStorage } = await import('../storage/index.js');
  const { replay, saveAsSoleVoter } = await import('../server/sole-voter.js');
  const dir = new DataDir(resolveDataDir(globalOptions(command).dataDir));
  const identity = await dir.readIdentity();
  const pid = await runningPid(dir.pidPath);
  if (pid !== null) throw new CliError(`node ${identity.nodeId} is running (pid ${pid}); stop it first with \`quorate stop\``);
  const storage = await DiskStorage.open({ dir: dir.raftDir });
  try {
    const persisted = await storage.load();
    const replayed = replay(persisted, 'commit', dir.raftDir);
    const { conf, index, term, state, dropped } = replayed;
    const others = conf.voters.filter((id) => id !== identity.nodeId);
    const confirmed = confirmLost
      .split(',')
      .map((id) => id.trim())
      .filter((id) => id !== '')
      .sort();
    if (!conf.voters.includes(identity.nodeId)) throw new CliError(`${identity.nodeId} is not a voter of its last configuration (${conf.voters.join(', ')}); recover from a node that is`);
    if (others.join(',') !== confirmed.join(',')) {
      throw new CliError(
        `the other voters of the last configuration are ${others.join(', ') || '(none)'}; after making sure they are dead (and will be wiped, never restarted on their data), confirm exactly them with --confirm-lost ${others.join(',')}`,
      );
    }
    print(
      [
        `recovering ${identity.nodeId} from ${dir.path}:`,
        `  keep the state as of committed index ${index} (term ${term}): KV revision ${state.kv.revision}, ${state.credentials.list().length} join tokens, the same CA`,
        `  drop ${dropped} log entries after the commit index (they may never have been committed)`,
        `  remove members: ${[...others, ...conf.learners].join(', ') || '(none)'}`,
        `  new configuration: ${identity.nodeId} as the only voter`,
        '',
      ].join('\n'),
    );
    await saveAsSoleVoter(storage, persisted, replayed, identity.nodeId);
  } finally {
    await storage.close();
  }
  print(`recovered: start it with \`quorate server\` (or systemctl start quorate), then add servers with \`quorate cluster join-token\` and \`quorate cluster join\`\n`);
}

export function addRecoverCommand(cluster: Command): void {
  cluster
    .command('recover')
    .description('after losing a majority for good: rebuild a one-voter cluster from this stopped survivor')
    .requiredOption('--confirm-lost <ids>', 'every other voter, comma-separated, confirming each is dead and will be wiped')
    .action((options: { confirmLost: string }, command: Command) => recover(options.confirmLost, command));
}
