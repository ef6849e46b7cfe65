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
  const { ClusterStateMachine } = await import('../state/index.js');
  const { applyConfChange } = await import('../raft/index.js');
  const dir = new DataDir(resolveDataDir(globalOptions(command).dataDir));
  const identity = await dir.readIdentity();
  const pid = await runningPid(dir.pidPath);
  if (pid !== null) throw new CliError(`node ${identity.nodeId} is running (pid ${pid}); stop it first with \`quorate stop\``);
  const storage = await DiskStorage.open({ dir: dir.raftDir });
  try {
    const persisted = await storage.load();
    if (persisted.snapshot === null) throw new CliError(`${dir.raftDir} holds no Raft state to recover from`);
    const state = new ClusterStateMachine();
    state.restore(persisted.snapshot.data);
    let conf = persisted.snapshot.meta.conf;
    let index = persisted.snapshot.meta.index;
    let term = persisted.snapshot.meta.term;
    const commit = persisted.hardState.commit;
    for (const entry of persisted.entries) {
      if (entry.index > commit) break;
      state.apply(entry);
      if (entry.type === 'conf') conf = applyConfChange(conf, entry.change);
      index = entry.index;
      term = entry.term;
    }
    const dropped = persisted.entries.filter((e) => e.index > commit).length;
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
    const self = state.members.get(identity.nodeId);
    if (self === undefined) throw new CliError(`the member registry has no addresses for ${identity.nodeId}`);
    state.members.replace([self]);
    const snapshot = { meta: { index, term, conf: { voters: [identity.nodeId], learners: [] } }, data: state.snapshot() };
    await storage.save({ hardState: { term: persisted.hardState.term, vote: null, commit: index }, entries: [], snapshot, sync: true });
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
