/**
 * `npm run bench -- cluster`: a 3-node Quorate cluster and a 3-node etcd, one after the other on
 * the same loopback addresses, driven by the same client code, printed as one table with the
 * ratio Quorate/etcd. A target that is not available (etcd not installed, Quorate's target not
 * written yet) is skipped with a line saying why, and its column shows '-'.
 *
 *   npm run bench -- cluster                     3 runs of 5 s per workload, 20 leader kills
 *   npm run bench -- cluster --quick             3 runs of 1 s, 3 leader kills: a smoke run
 *   npm run bench -- cluster --runs 5 --seconds 10 --failovers 50
 *   npm run bench -- cluster --targets etcd      one target only (quorate, etcd)
 *   npm run bench -- cluster --client etcd       drive both through the same etcd v3 gRPC client
 *                                                (etcd-client.ts) instead of each one's HTTP/JSON API
 *   npm run bench -- cluster --profile DIR       V8 CPU profiles of the Quorate nodes into DIR
 *                                                (open in Chrome DevTools or summarize with
 *                                                `node dist/bench/profile-summary.js DIR`)
 */
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EtcdClientTarget, type EtcdGrpcAccess } from './etcd-client.js';
import { etcdGrpcAccess, etcdInstalled, etcdTarget } from './etcd.js';
import { rows, runTarget, type BenchConfig, type TargetReport } from './run.js';
import { quorateGrpcAccess, quorateTarget } from './quorate.js';
import { formatTable } from './table.js';
import type { ClusterTarget, TargetFactory } from './target.js';
import { keyCount, valueBytes } from './workloads.js';

/** The seeds' three-node layout on loopback (10.0.0.1-3 there). */
const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3'] as const;
const columns = ['quorate', 'etcd'] as const;
type TargetName = (typeof columns)[number];
type Loaded = { readonly factory: TargetFactory; readonly grpc: EtcdGrpcAccess } | { readonly skipped: string };
/** native: each target's own HTTP/JSON API (Quorate's /v1, etcd's JSON gateway); etcd: one etcd gRPC client for both. */
const clients = ['native', 'etcd'] as const;
type ClientKind = (typeof clients)[number];

const loaders: Record<TargetName, () => Promise<Loaded>> = {
  quorate: () => Promise.resolve({ factory: quorateTarget, grpc: quorateGrpcAccess }),
  etcd: () => Promise.resolve(etcdInstalled() ? { factory: etcdTarget, grpc: etcdGrpcAccess } : { skipped: 'the etcd binary is not installed (apt-get install etcd-server)' }),
};

/** Runs the benchmark with the arguments after `cluster`; resolves with the process exit code. */
export async function benchCluster(argv: readonly string[]): Promise<number> {
  const parsed = parseConfig(argv);
  if (typeof parsed === 'string') {
    process.stderr.write(`bench cluster: ${parsed}\n`);
    return 2;
  }
  const { config, targets, profileDir, client } = parsed;
  process.stdout.write(
    `\nCluster: 3 nodes on ${hosts.join(', ')} (${cpus().length} cores, shared with the client), ${valueBytes}-byte values over ${keyCount} keys, clients spread over the 3 endpoints\n` +
      `median [min-max] of ${config.runs} runs of ${config.seconds}s; failover gap over ${config.failovers} leader kills; ratio = quorate/etcd\n` +
      `client: ${client === 'etcd' ? 'the same etcd v3 gRPC client (grpc-js) for both' : "each target's own HTTP/JSON API"}\n`,
  );
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
      const native = loaded.factory(profileDir === undefined ? { hosts } : { hosts, profileDir });
      const target = client === 'etcd' ? new EtcdClientTarget(native, loaded.grpc) : native;
      active.add(target);
      try {
        reports.push(await runTarget(target, config));
      } finally {
        await target.stop();
        active.delete(target);
      }
    }
    if (reports.length === 0) {
      process.stdout.write('no target available: nothing measured\n');
      return 0;
    }
    process.stdout.write(`\n${formatTable(rows, columns, reports)}\n`);
    for (const report of reports) {
      for (const note of report.notes) process.stdout.write(`${report.name}: ${note}\n`);
      if (report.failure !== undefined) process.stdout.write(`${report.name}: FAILED, stopped early: ${report.failure}\n`);
    }
    return reports.some((r) => r.failure !== undefined) ? 1 : 0;
  } finally {
    for (const signal of signals) process.off(signal, onSignal);
  }
}

function parseConfig(argv: readonly string[]): { config: BenchConfig; targets: TargetName[]; profileDir: string | undefined; client: ClientKind } | string {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean', default: false },
        runs: { type: 'string' },
        seconds: { type: 'string' },
        failovers: { type: 'string' },
        targets: { type: 'string', default: columns.join(',') },
        profile: { type: 'string' },
        client: { type: 'string', default: 'native' },
      },
    }));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const config: BenchConfig = {
    runs: Number(values.runs ?? 3),
    seconds: Number(values.seconds ?? (values.quick ? 1 : 5)),
    failovers: Number(values.failovers ?? (values.quick ? 3 : 20)),
  };
  if (!(Number.isInteger(config.runs) && config.runs >= 1 && config.seconds > 0 && Number.isInteger(config.failovers) && config.failovers >= 0)) {
    return '--runs must be an integer >= 1, --seconds positive, --failovers an integer >= 0';
  }
  const targets = values.targets.split(',');
  const unknown = targets.filter((t) => !columns.some((c) => c === t));
  if (unknown.length > 0) return `unknown target ${unknown.join(', ')} (known: ${columns.join(', ')})`;
  const client = clients.find((c) => c === values.client);
  if (client === undefined) return `unknown client ${values.client} (known: ${clients.join(', ')})`;
  return { config, targets: columns.filter((c) => targets.includes(c)), profileDir: values.profile === undefined ? undefined : resolve(values.profile), client };
}

