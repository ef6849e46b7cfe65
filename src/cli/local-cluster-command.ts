/**
 * `quorate local-cluster` (what `npm start` runs): a 3-node cluster on this machine, on
 * 127.0.0.1, 127.0.0.2 and 127.0.0.3 with the same ports (API 8080, peers 8081), like the
 * seeds' 10.0.0.1-3. It writes one static-bootstrap TOML file per node into the directory
 * (default ./.quorate-local), starts one `quorate server` process per node with its log in
 * the same directory, and stops them all on Ctrl-C. Data survives restarts of the command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { print, untilSignal } from './context.js';

const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3'] as const;
const mainPath = fileURLToPath(new URL('./main.js', import.meta.url));

function config(i: number, dir: string): string {
  const members = hosts.map((host, j) => `  { id = ${j + 1}, address = "${host}:8081" },`).join('\n');
  return [
    '# Written by `quorate local-cluster`: one node of a local 3-node cluster.',
    '[cluster]',
    `node_id = ${i + 1}`,
    `listen_address = "${hosts[i] ?? ''}:8081"`,
    `api_address = "${hosts[i] ?? ''}:8080"`,
    `initial_cluster = [\n${members}\n]`,
    `db_root_dir = "${join(dir, 'data')}"`,
    // A fixed secret is fine on loopback only; a real cluster uses its own (seed 002, README).
    'cluster_secret = "local-cluster-secret-loopback-only"',
    '',
  ].join('\n');
}

async function startNode(i: number, dir: string): Promise<ChildProcess> {
  const configPath = join(dir, `n${i + 1}.toml`);
  await writeFile(configPath, config(i, dir));
  const log = await open(join(dir, `n${i + 1}.log`), 'a');
  // Own process group: Ctrl-C reaches only this command, which then stops each node once, gracefully.
  const child = spawn(process.execPath, [mainPath, 'server', '--config', configPath], { stdio: ['ignore', log.fd, log.fd], detached: true });
  await once(child, 'spawn');
  await log.close();
  return child;
}

async function runLocalCluster(dirOption: string): Promise<void> {
  const dir = resolve(dirOption);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const children = await Promise.all(hosts.map((_, i) => startNode(i, dir)));
  print(
    [
      `local cluster: 3 nodes on ${hosts.join(', ')} (API port 8080, peer port 8081); configs, data and logs in ${dir}`,
      'try, in another terminal:',
      '  npx quorate kv put greeting hello',
      '  npx quorate kv get greeting --endpoints http://127.0.0.2:8080',
      '  curl -s http://127.0.0.3:8080/v1/status',
      'Ctrl-C stops the cluster.',
      '',
    ].join('\n'),
  );
  const exited = children.map((child, i) => once(child, 'exit').then(([code]) => print(`node ${i + 1} exited (${String(code)}); see ${join(dir, `n${i + 1}.log`)}\n`)));
  await untilSignal();
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(exited);
}

export function addLocalClusterCommand(program: Command): void {
  program
    .command('local-cluster')
    .description('run a 3-node cluster on 127.0.0.1-3 in the foreground (what npm start runs)')
    .option('--dir <path>', 'where configs, data and logs go', '.quorate-local')
    .action((options: { dir: string }) => runLocalCluster(options.dir));
}
