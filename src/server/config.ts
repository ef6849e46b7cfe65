/**
 * The server's configuration: the TOML file of a static bootstrap (seed 002's `[cluster]`
 * table) parsed, validated and turned into one typed object. Every problem is reported with
 * the field it concerns and what to write instead; nothing is guessed.
 *
 * ```toml
 * [cluster]
 * node_id = 1                               # integer or name
 * listen_address = "127.0.0.1:8081"         # peer (Raft) listener
 * api_address = "127.0.0.1:8080"            # HTTP API (default: the listen host, port 8080)
 * grpc_address = "127.0.0.1:2379"           # etcd-compatible gRPC API (default: the API host, port 2379; "off": none)
 * initial_cluster = [
 *   { id = 1, address = "127.0.0.1:8081", role = 1, status = 2 },
 *   { id = 2, address = "127.0.0.2:8081", role = 1, status = 2 },
 *   { id = 3, address = "127.0.0.3:8081", role = 3, status = 0 },  # joins as a learner later
 * ]
 * db_root_dir = "./db"                      # this node's data goes to <db_root_dir>/<node_id>
 * cluster_secret = "at least 16 characters" # or cluster_secret_file, or a [tls] table
 * write_quorum = "majority"                 # or "all"
 * ```
 * Optional: advertise_address, cluster_name, election_timeout_ms (300), heartbeat_interval_ms
 * (100), request_timeout_ms (5000), snapshot_entries (100000), snapshot_trailing_entries (5000),
 * otlp_endpoint (an OpenTelemetry collector for the metrics, e.g. "http://127.0.0.1:4318").
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve, dirname } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { defaultTimings } from '../node/index.js';
import { QuorateError } from '../util/errors.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface InitialMember {
  /** Null when only the address is known (library peers): the id is asked from the peer. */
  readonly id: string | null;
  readonly peerAddress: string;
  readonly apiAddress: string;
  /** Voters bootstrap the cluster; the others join it later as learners and get promoted. */
  readonly bootstrap: boolean;
}

export type TlsConfig =
  | { readonly kind: 'secret'; readonly secret: string }
  | {
      readonly kind: 'files';
      readonly caFile: string;
      readonly certFile: string;
      readonly keyFile: string;
      /** The CA key, on a node that renews its own certificate (a server's data directory). */
      readonly caKeyFile?: string;
    };

export type WriteQuorum = 'majority' | 'all';

export interface ServerConfig {
  readonly nodeId: string;
  /**
   * The cluster's id (16 hex digits, named in SNI and join tokens); by default the one the CA
   * certificate gives. A data directory records it, so that it outlives a CA rotation.
   */
  readonly clusterId?: string;
  readonly clusterName: string;
  /** Where the peer listener binds. */
  readonly listen: HostPort;
  /** The peer address the others dial; outgoing peer connections bind to its host. */
  readonly advertise: HostPort;
  readonly api: HostPort;
  /**
   * The etcd-compatible gRPC API's listener; null: none. `explicit` when grpc_address names it:
   * a default address that is taken (another etcd, another node on this host) is then skipped
   * with a warning rather than stopping the node.
   */
  readonly grpc: { readonly address: HostPort; readonly explicit: boolean } | null;
  readonly initialCluster: readonly InitialMember[];
  readonly dataDir: string;
  readonly tls: TlsConfig;
  readonly writeQuorum: WriteQuorum;
  readonly electionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** A request that cannot commit within this long fails with no_quorum. */
  readonly requestTimeoutMs: number;
  /** Take a snapshot after this many applied entries (etcd's --snapshot-count). */
  readonly snapshotEntries: number;
  /** Entries kept in the log behind a snapshot, so a slightly lagging follower needs no snapshot. */
  readonly snapshotTrailingEntries: number;
  /** Whether this server also runs jobs (seed 000's `node list` shows servers with jobs). */
  readonly runJobs: boolean;
  /** This node stops its jobs when the leader has not answered its heartbeat for this long. */
  readonly watchdogTimeoutMs: number;
  /** A hardware watchdog device fed while a leader answers (e.g. /dev/watchdog); null: none. */
  readonly watchdogDevice: string | null;
  /** Labels such as rack and zone (job constraints, topology warnings). */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Serve the API over plain HTTP (`quorate server --insecure-api`); only on a loopback address,
   * where no other machine can read the tokens. HTTPS from the cluster CA otherwise.
   */
  readonly insecureApi: boolean;
  /**
   * An OpenTelemetry collector's OTLP/HTTP base URL (`/v1/metrics` is appended) to push the
   * metrics to; without it, the OTEL_EXPORTER_OTLP_* environment variables decide (otlp-exporter.ts).
   */
  readonly otlpEndpoint?: string;
}

/** Seed 003 / Pacemaker's stonith-watchdog-timeout scale: long enough to ride out an election. */
export const defaultWatchdogTimeoutMs = 5_000;

export const defaultApiPort = 8080;
/** etcd's client port, so etcd clients find the gRPC API where they expect it. */
export const defaultGrpcPort = 2379;
export const defaultPeerPort = 8081;
export const defaultRequestTimeoutMs = 5000;
/**
 * etcd's defaults (--snapshot-count 100000, 5000 entries kept for followers catching up). A
 * snapshot encodes the whole state, all of it at the applied index, so its cost grows with
 * the data, not with the interval: at 10,000 a loaded 3-node cluster spent a few percent of
 * its CPU on snapshots and paused writes for ~300 ms every two seconds. The price of the
 * longer interval is memory: up to this many entries stay in the in-memory log.
 */
export const defaultSnapshotEntries = 100_000;
export const defaultSnapshotTrailingEntries = 5_000;

export function configError(field: string, problem: string): QuorateError {
  return new QuorateError('invalid_config', `${field}: ${problem}`);
}

/** "host:port" (IPv6 in brackets) into its parts; the field name goes into the error. */
export function parseHostPort(text: string, field: string, defaultPort?: number): HostPort {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::([0-9]{1,5}))?$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
  if (host === undefined || port === undefined) throw configError(field, `${JSON.stringify(text)} is not host:port (for example "127.0.0.1:${defaultPort ?? defaultPeerPort}")`);
  if (port < 1 || port > 65535) throw configError(field, `port ${port} is outside 1-65535`);
  return { host, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

const wildcardHosts = new Set(['0.0.0.0', '::']);

const nodeIdSchema = z.union([z.number().int().nonnegative(), z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "1-64 letters, digits, '.', '_' or '-'")]);

const memberSchema = z
  .object({
    id: nodeIdSchema,
    address: z.string(),
    api_address: z.string().optional(),
    /** Seed 002's NodeRole: 0 follower, 1 candidate, 2 leader (all voters), 3 learner. */
    role: z.number().int().min(0).max(3).default(1),
    /** Seed 002's NodeStatus: 0 joining, 1 syncing, 2 active. */
    status: z.number().int().min(0).max(2).default(2),
  })
  .strict();

const clusterSchema = z
  .object({
    node_id: nodeIdSchema,
    cluster_name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "1-64 letters, digits, '.', '_' or '-'").default('quorate'),
    listen_address: z.string(),
    advertise_address: z.string().optional(),
    api_address: z.string().optional(),
    grpc_address: z.string().optional(),
    initial_cluster: z.array(memberSchema).min(1, 'list at least this node'),
    db_root_dir: z.string().min(1),
    cluster_secret: z.string().optional(),
    cluster_secret_file: z.string().optional(),
    write_quorum: z.enum(['majority', 'all']).default('majority'),
    election_timeout_ms: z.number().int().min(20).max(60_000).default(defaultTimings.electionMs),
    heartbeat_interval_ms: z.number().int().min(5).max(10_000).default(defaultTimings.heartbeatMs),
    request_timeout_ms: z.number().int().min(100).max(600_000).default(defaultRequestTimeoutMs),
    snapshot_entries: z.number().int().min(10).max(10_000_000).default(defaultSnapshotEntries),
    snapshot_trailing_entries: z.number().int().min(0).max(10_000_000).default(defaultSnapshotTrailingEntries),
    run_jobs: z.boolean().default(true),
    watchdog_timeout_ms: z.number().int().min(500).max(600_000).default(defaultWatchdogTimeoutMs),
    watchdog_device: z.string().min(1).optional(),
    labels: z.record(z.string().regex(/^[A-Za-z0-9._-]{1,63}$/), z.string().max(255)).default({}),
    otlp_endpoint: z.string().regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'an http:// or https:// URL, for example "http://127.0.0.1:4318"').optional(),
  })
  .strict();

const tlsSchema = z.object({ ca_file: z.string(), cert_file: z.string(), key_file: z.string() }).strict();

const fileSchema = z.object({ cluster: clusterSchema, tls: tlsSchema.optional() }).strict();

/** Read and validate a TOML config file; relative paths in it are relative to the file. */
export function loadServerConfig(path: string): ServerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new QuorateError('invalid_config', `cannot read config file ${path}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parseToml(text);
  } catch (error) {
    throw new QuorateError('invalid_config', `${path} is not valid TOML: ${(error as Error).message}`);
  }
  return parseServerConfig(document, dirname(resolve(path)), path);
}

/** Validate an already parsed document (the TOML file's content). */
export function parseServerConfig(document: unknown, baseDir: string, source = 'config'): ServerConfig {
  const parsed = fileSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue === undefined || issue.path.length === 0 ? '(top level)' : issue.path.join('.');
    throw new QuorateError('invalid_config', `${source}: ${field}: ${issue?.message ?? 'invalid'}`);
  }
  const { cluster, tls } = parsed.data;
  const nodeId = String(cluster.node_id);
  const listen = parseHostPort(cluster.listen_address, 'cluster.listen_address', defaultPeerPort);
  const advertise = cluster.advertise_address === undefined ? listen : parseHostPort(cluster.advertise_address, 'cluster.advertise_address', listen.port);
  if (wildcardHosts.has(advertise.host)) {
    throw configError('cluster.advertise_address', `peers cannot dial ${advertise.host}; set advertise_address to this node's reachable IP`);
  }
  const api = cluster.api_address === undefined ? { host: advertise.host, port: defaultApiPort } : parseHostPort(cluster.api_address, 'cluster.api_address', defaultApiPort);
  const grpc =
    cluster.grpc_address === 'off'
      ? null
      : cluster.grpc_address === undefined
        ? { address: { host: api.host, port: defaultGrpcPort }, explicit: false }
        : { address: parseHostPort(cluster.grpc_address, 'cluster.grpc_address', defaultGrpcPort), explicit: true };
  const initialCluster = cluster.initial_cluster.map((member, i) => initialMember(member, i));
  checkMembers(initialCluster, nodeId, formatHostPort(advertise));
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  if (cluster.election_timeout_ms < 2 * cluster.heartbeat_interval_ms) {
    throw configError('cluster.election_timeout_ms', `must be at least twice heartbeat_interval_ms (${cluster.heartbeat_interval_ms}); 3-5 times is typical`);
  }
  return {
    nodeId,
    clusterName: cluster.cluster_name,
    listen,
    advertise,
    api,
    grpc,
    initialCluster,
    dataDir: join(path(cluster.db_root_dir), nodeId),
    tls: tlsConfig(cluster.cluster_secret, cluster.cluster_secret_file, tls, path),
    writeQuorum: cluster.write_quorum,
    electionTimeoutMs: cluster.election_timeout_ms,
    heartbeatIntervalMs: cluster.heartbeat_interval_ms,
    requestTimeoutMs: cluster.request_timeout_ms,
    snapshotEntries: cluster.snapshot_entries,
    snapshotTrailingEntries: cluster.snapshot_trailing_entries,
    runJobs: cluster.run_jobs,
    watchdogTimeoutMs: cluster.watchdog_timeout_ms,
    watchdogDevice: cluster.watchdog_device === undefined ? null : path(cluster.watchdog_device),
    labels: cluster.labels,
    insecureApi: false,
    ...(cluster.otlp_endpoint === undefined ? {} : { otlpEndpoint: cluster.otlp_endpoint }),
  };
}

/**
 * The config with its API on plain HTTP, refused unless the API listens on loopback only:
 * tokens travel in every request, and on any other address a neighbour could read them.
 */
export function withInsecureApi(config: ServerConfig): ServerConfig {
  if (!isLoopback(config.api.host)) {
    throw configError('--insecure-api', `plain HTTP is allowed only on a loopback API address (127.0.0.0/8, ::1 or localhost), but the API listens on ${config.api.host}; drop --insecure-api (clients then use https:// with --ca-file or --ca-pin) or set api_address to a loopback address`);
  }
  return { ...config, insecureApi: true };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/.test(host);
}

function initialMember(member: z.infer<typeof memberSchema>, i: number): InitialMember {
  const field = `cluster.initial_cluster[${i}]`;
  const peer = parseHostPort(member.address, `${field}.address`, defaultPeerPort);
  if (wildcardHosts.has(peer.host)) throw configError(`${field}.address`, `peers cannot dial ${peer.host}; write the member's reachable IP`);
  const api = member.api_address === undefined ? { host: peer.host, port: defaultApiPort } : parseHostPort(member.api_address, `${field}.api_address`, defaultApiPort);
  return { id: String(member.id), peerAddress: formatHostPort(peer), apiAddress: formatHostPort(api), bootstrap: member.role !== 3 && member.status === 2 };
}

function checkMembers(members: readonly InitialMember[], nodeId: string, advertise: string): void {
  const ids = new Set<string>();
  const addresses = new Set<string>();
  for (const member of members) {
    if (member.id !== null && ids.has(member.id)) throw configError('cluster.initial_cluster', `id ${member.id} appears twice`);
    if (addresses.has(member.peerAddress)) throw configError('cluster.initial_cluster', `address ${member.peerAddress} appears twice`);
    if (member.id !== null) ids.add(member.id);
    addresses.add(member.peerAddress);
  }
  const self = members.find((m) => m.id === nodeId);
  if (self === undefined) throw configError('cluster.initial_cluster', `must list this node (id ${nodeId})`);
  if (self.peerAddress !== advertise) {
    throw configError('cluster.initial_cluster', `lists this node (id ${nodeId}) at ${self.peerAddress}, but it advertises ${advertise}; make them the same`);
  }
  if (!members.some((m) => m.bootstrap)) throw configError('cluster.initial_cluster', 'needs at least one active voter (role 0-2, status 2) to form or join a cluster');
}

function tlsConfig(
  secret: string | undefined,
  secretFile: string | undefined,
  tls: z.infer<typeof tlsSchema> | undefined,
  path: (p: string) => string,
): TlsConfig {
  const given = [secret, secretFile, tls].filter((x) => x !== undefined).length;
  if (given !== 1) {
    throw configError('cluster.cluster_secret', 'give exactly one of cluster_secret, cluster_secret_file or a [tls] table (ca_file, cert_file, key_file): peers authenticate each other with it');
  }
  if (tls !== undefined) return { kind: 'files', caFile: path(tls.ca_file), certFile: path(tls.cert_file), keyFile: path(tls.key_file) };
  if (secretFile !== undefined) {
    try {
      return { kind: 'secret', secret: readFileSync(path(secretFile), 'utf8').trim() };
    } catch (error) {
      throw configError('cluster.cluster_secret_file', `cannot read ${secretFile}: ${(error as Error).message}`);
    }
  }
  return { kind: 'secret', secret: secret ?? '' };
}
