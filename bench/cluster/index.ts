/**
 * `npm run bench -- cluster`: a 3-node Quorate cluster and a 3-node etcd, one after the other on
 * the same loopback addresses, driven by the same client code, printed as one table with the
 * ratio Quorate/etcd. A target that is not available (etcd not installed, Quorate's target not
 * written yet) is skipped with a line saying why, and its column shows '-'.
 *
 *   npm run bench -- cluster                     3 runs of 5 s per workload, 20 leader kills, 3 joins
 *                                                to a cluster holding 100 MiB, RSS idle and with
 *                                                1 million keys
 *   npm run bench -- cluster --quick             3 runs of 1 s, 3 leader kills, joins with 10 MiB,
 *                                                RSS with 100k keys: a smoke run
 *   npm run bench -- cluster --runs 5 --seconds 10 --failovers 50
 *   npm run bench -- cluster --join-mib 20 --memory-keys 200000   smaller fills (0 skips either)
 *   npm run bench -- cluster --targets etcd      one target only (quorate, etcd)
 *   npm run bench -- cluster --etcd-plain-peers  etcd's peers on plain HTTP (default: mutual TLS,
 *                                                as Quorate's peers always have)
 *   npm run bench -- cluster --client etcd       drive both through the same etcd v3 gRPC client
 *                                                (etcd-client.ts) instead of each one's HTTP/JSON API,
 *                                                and the floor too: a server that answers at once
 *                                                (floor-server.ts), throughput workloads only
 *   npm run bench -- cluster --client etcd --targets quorate,etcd   without the floor
 *   npm run bench -- cluster --profile DIR       V8 CPU profiles of the Quorate nodes into DIR: the
 *                                                throughput workloads in n<i>-1.cpuprofile (the nodes
 *                                                are stopped gracefully and restarted before the
 *                                                failovers), the later phases in later files (open in
 *                                                Chrome DevTools or summarize with
 *                                                `node dist/bench/profile-summary.js DIR`)
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EtcdClientTarget, type EtcdGrpcAccess } from './etcd-client.js';
import { etcdGrpcAccess, etcdInstalled, etcdTarget } from './etcd.js';
import { keysForMib } from './fill.js';
import { floorGrpcAccess, floorTarget } from './floor.js';
import { runTarget, runThroughput, tableRows, type BenchConfig, type TargetReport } from './run.js';
import { quorateGrpcAccess, quorateTarget } from './quorate.js';
import { formatTable } from './table.js';
import type { ClusterTarget, TargetFactory } from './target.js';
import { keyCount, valueBytes } from './workloads.js';

/** The seeds' three-node layout on loopback (10.0.0.1-3 there). */
const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3'] as const;
/** The node the join workload adds. */
const joinHost = '127.0.0.4';
const columns = ['quorate', 'etcd'] as const;
/** Reference figures after the ratio: the floor, through the etcd client only. */
const floor = 'floor';
type TargetName = (typeof columns)[number] | typeof floor;
type Loaded = { readonly factory: TargetFactory; readonly grpc: EtcdGrpcAccess } | { readonly skipped: string };
/** native: each target's own HTTP/JSON API (Quorate's /v1, etcd's JSON gateway); etcd: one etcd gRPC client for both. */
const clients = ['native', 'etcd'] as const;
type ClientKind = (typeof clients)[number];

const loaders: Record<TargetName, () => Promise<Loaded>> = {
  quorate: () => Promise.resolve({ factory: quorateTarget, grpc: quorateGrpcAccess }),
  etcd: () => Promise.resolve(etcdInstalled() ? { factory: etcdTarget, grpc: etcdGrpcAccess } : { skipped: 'the etcd binary is not installed (apt-get install etcd-server)' }),
  floor: () => Promise.resolve({ factory: floorTarget, grpc: floorGrpcAccess }),
};

/** Runs the benchmark with the arguments after `cluster`; resolves with the process exit code. */
export async function benchCluster(argv: readonly string[]): Promise<number> {
  const parsed = parseConfig(argv);
  if (typeof parsed === 'string') {
    process.stderr.write(`bench cluster: ${parsed}\n`);
    return 2;
  }
  const { config, targets, profileDir, client, peerTls } = parsed;
  process.stdout.write(header(config, client, peerTls, profileDir, targets.includes(floor)));
  const active = new Set<ClusterTarget>();
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\nbench cluster: ${signal}, stopping the nodes\n`);
    void Promise.allSettled([...active].map((t) => t.stop())).then(() => process.exit(130));
  };
  // A closed terminal (SIGHUP) would otherwise end the process without its 'exit' hooks.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.once(signal, onSignal);
  try {
    const reports: TargetReport[] = [];
    for (const name of targets) {
      const loaded = await loaders[name]();
      if ('skipped' in loaded) {
        process.stdout.write(`${name}: skipped, ${loaded.skipped}\n`);
        continue;
      }
      const options = { hosts, joinHost, peerTls };
      const native = loaded.factory(profileDir === undefined ? options : { ...options, profileDir });
      const target = client === 'etcd' ? new EtcdClientTarget(native, loaded.grpc) : native;
      active.add(target);
      try {
        reports.push(await (name === floor ? runThroughput(target, config) : runTarget(target, config)));
      } finally {
        await target.stop();
        active.delete(target);
      }
    }
    if (reports.length === 0) {
      process.stdout.write('no target available: nothing measured\n');
      return 0;
    }
    process.stdout.write(`\n${formatTable(tableRows(config), columns, targets.includes(floor) ? [floor] : [], reports)}\n`);
    for (const report of reports) {
      for (const note of report.notes) process.stdout.write(`${report.name}: ${note}\n`);
      if (report.failure !== undefined) process.stdout.write(`${report.name}: FAILED, stopped early: ${report.failure}\n`);
    }
    return reports.some((r) => r.failure !== undefined) ? 1 : 0;
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
  }
}

/** What was measured how, with the date, the machine and the commit, so that a pasted table says where it came from. */
function header(config: BenchConfig, client: ClientKind, peerTls: boolean, profileDir: string | undefined, withFloor: boolean): string {
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  const commit = git.status === 0 ? git.stdout.trim() : 'unknown (not a git checkout)';
  const lines = [
    '',
    `Cluster: ${new Date().toISOString()}, commit ${commit}, ${cpus().length} cores (shared with the client)`,
    `3 nodes on ${hosts.join(', ')}, ${valueBytes}-byte values over ${keyCount} keys, clients spread over the 3 endpoints`,
    `median [min-max] of ${config.runs} runs of ${config.seconds}s; failover gap over ${config.failovers} leader kills; ratio = quorate/etcd`,
    config.joinMib === 0 ? 'join: skipped (--join-mib 0)' : `join: a 4th node on ${joinHost} joins a cluster holding ${config.joinMib} MiB of values (${keysForMib(config.joinMib)} keys), median [min-max] of ${config.runs} joins`,
    `RSS: VmRSS per node, median [min-max] of the 3 nodes, idle after start${config.memoryKeys === 0 ? '' : ` and with ${config.memoryKeys} keys of ${valueBytes} bytes`}`,
    'CPU us/op: user + system time per completed request, of the 3 nodes together and of the client process, from /proc and process.cpuUsage()',
    `client: ${client === 'etcd' ? 'the same etcd v3 gRPC client (grpc-js) for both' : "each target's own HTTP/JSON API"}`,
    `peers: quorate mutual TLS; etcd ${peerTls ? 'mutual TLS (--peer-client-cert-auth)' : 'plain HTTP (--etcd-plain-peers)'}`,
    ...(withFloor ? ['floor: 3 grpc-js servers on the same addresses that answer every Put and Range at once (no Raft, no disk), same client: the cost of the client and the protocol alone'] : []),
    ...(profileDir === undefined ? [] : [`profiles in ${profileDir}: throughput workloads in n<i>-1.cpuprofile, failover/join/memory phases in later files`]),
  ];
  return `${lines.join('\n')}\n`;
}

function parseConfig(argv: readonly string[]): { config: BenchConfig; targets: TargetName[]; profileDir: string | undefined; client: ClientKind; peerTls: boolean } | string {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean', default: false },
        runs: { type: 'string' },
        seconds: { type: 'string' },
        failovers: { type: 'string' },
        targets: { type: 'string' },
        profile: { type: 'string' },
        client: { type: 'string', default: 'native' },
        'join-mib': { type: 'string' },
        'memory-keys': { type: 'string' },
        'etcd-plain-peers': { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const config: BenchConfig = {
    runs: Number(values.runs ?? 3),
    seconds: Number(values.seconds ?? (values.quick ? 1 : 5)),
    failovers: Number(values.failovers ?? (values.quick ? 3 : 20)),
    joinMib: Number(values['join-mib'] ?? (values.quick ? 10 : 100)),
    memoryKeys: Number(values['memory-keys'] ?? (values.quick ? 100_000 : 1_000_000)),
  };
  if (!(Number.isInteger(config.runs) && config.runs >= 1 && config.seconds > 0 && Number.isInteger(config.failovers) && config.failovers >= 0)) {
    return '--runs must be an integer >= 1, --seconds positive, --failovers an integer >= 0';
  }
  if (!(config.joinMib >= 0 && Number.isInteger(config.memoryKeys) && config.memoryKeys >= 0)) return '--join-mib must be >= 0, --memory-keys an integer >= 0';
  // The fill only grows, so the memory reading comes after the joins and holds at least their keys.
  if (config.memoryKeys !== 0 && config.memoryKeys < keysForMib(config.joinMib)) {
    return `--memory-keys must be 0 or at least the join's ${keysForMib(config.joinMib)} keys (${config.joinMib} MiB of ${valueBytes}-byte values)`;
  }
  const client = clients.find((c) => c === values.client);
  if (client === undefined) return `unknown client ${values.client} (known: ${clients.join(', ')})`;
  const known: readonly TargetName[] = [...columns, floor];
  const targets = values.targets?.split(',') ?? (client === 'etcd' ? known : columns);
  const unknown = targets.filter((t) => !known.some((c) => c === t));
  if (unknown.length > 0) return `unknown target ${unknown.join(', ')} (known: ${known.join(', ')})`;
  // The floor speaks only the etcd protocol.
  if (targets.includes(floor) && client !== 'etcd') return 'the floor target needs --client etcd';
  const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
  return { config, targets: known.filter((c) => targets.includes(c)), profileDir, client, peerTls: !values['etcd-plain-peers'] };
}

