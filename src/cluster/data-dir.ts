/**
 * A node's data directory, made by `quorate cluster init` or `cluster join` and read by
 * `quorate server` and by every CLI command run on the node (so `quorate cluster status`
 * needs no flags there):
 *
 *   node.json        who this node is: node id, cluster id and name, advertise address, ports
 *   tls/ca.crt       the cluster CA certificate (what the CLI and peers trust)
 *   tls/ca.key       the CA key (servers only: any server can admit a joining node)
 *   tls/node.crt     this node's certificate (CN = node id, IP SAN = advertise address)
 *   tls/node.key
 *   admin.token      the admin credential the CLI sends to the API (servers)
 *   join.json        the members a joining node dials until it is in the configuration
 *   agent.json       a worker's settings: servers to heartbeat to, labels, resources, watchdog
 *   alloc/, fence    a worker's allocations (records and logs) and fence (workload/agent.ts)
 *   raft/            the write-ahead log, hard state and snapshots (storage/)
 *   quorate.pid      the running server's process id (for `quorate stop`)
 *   left             written by `cluster leave`: the node must not start again
 *   quorate.log      the server's log when it runs in the background
 *
 * The directory is 0700 and secrets are 0600: only the service's user can read them.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { fsyncDir, writeFileAtomic } from '../storage/files.js';
import { QuorateError } from '../util/errors.js';

/** Where a node keeps its data unless told otherwise (Debian's place for service state). */
export const defaultDataDir = '/var/lib/quorate';
export const dataDirEnv = 'QUORATE_DATA_DIR';
const identityFormat = 1;
const secretMode = 0o600;
const publicMode = 0o644;

export type NodeRole = 'server' | 'worker';

/** The contents of node.json. */
export interface NodeIdentity {
  readonly nodeId: string;
  readonly clusterId: string;
  readonly clusterName: string;
  readonly role: NodeRole;
  /** The address other nodes and clients reach this node at (an IP address). */
  readonly advertise: string;
  readonly apiPort: number;
  readonly peerPort: number;
  /** Labels such as rack and zone (job constraints, topology warnings). */
  readonly labels: Readonly<Record<string, string>>;
}

const identitySchema = z
  .object({
    format: z.literal(identityFormat),
    nodeId: z.string().min(1),
    clusterId: z.string().min(1),
    clusterName: z.string().min(1),
    role: z.enum(['server', 'worker']),
    advertise: z.string().min(1),
    apiPort: z.number().int().min(1).max(65_535),
    peerPort: z.number().int().min(1).max(65_535),
    labels: z.record(z.string(), z.string()).default({}),
  })
  .strict();

export interface JoinMember {
  readonly id: string;
  readonly peerAddress: string;
  readonly apiAddress: string;
}

const joinMemberSchema = z.object({ id: z.string(), peerAddress: z.string(), apiAddress: z.string() }).strict();

/** A worker's settings (agent.json), from `quorate agent`'s flags. */
export interface AgentSettings {
  /** host:port of the servers' APIs, tried in turn. */
  readonly servers: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** What the node offers to jobs; null: the machine's total memory and cpu count. */
  readonly memoryMb: number | null;
  readonly cpu: number | null;
  readonly watchdogTimeoutMs: number;
  /** A hardware watchdog device to feed (e.g. /dev/watchdog); null: none. */
  readonly watchdogDevice: string | null;
}

const agentSettingsSchema = z
  .object({
    servers: z.array(z.string().min(1)).min(1),
    labels: z.record(z.string(), z.string()),
    memoryMb: z.number().int().nonnegative().nullable(),
    cpu: z.number().nonnegative().nullable(),
    watchdogTimeoutMs: z.number().int().positive(),
    watchdogDevice: z.string().min(1).nullable().default(null),
  })
  .strict();

export interface TlsFiles {
  readonly caCertPem: string;
  /** Absent on workers. */
  readonly caKeyPem: string | null;
  readonly nodeCertPem: string;
  readonly nodeKeyPem: string;
}

/** The directory from --data-dir, else $QUORATE_DATA_DIR, else /var/lib/quorate. */
export function resolveDataDir(flag: string | undefined): string {
  return resolve(flag ?? process.env[dataDirEnv] ?? defaultDataDir);
}

export class DataDir {
  constructor(readonly path: string) {}

  get identityPath(): string {
    return join(this.path, 'node.json');
  }

  get tlsDir(): string {
    return join(this.path, 'tls');
  }

  get caCertPath(): string {
    return join(this.tlsDir, 'ca.crt');
  }

  get caKeyPath(): string {
    return join(this.tlsDir, 'ca.key');
  }

  get nodeCertPath(): string {
    return join(this.tlsDir, 'node.crt');
  }

  get nodeKeyPath(): string {
    return join(this.tlsDir, 'node.key');
  }

  get adminTokenPath(): string {
    return join(this.path, 'admin.token');
  }

  get raftDir(): string {
    return join(this.path, 'raft');
  }

  /** The members a joining node dials until it is in the configuration (written by `cluster join`). */
  get joinPath(): string {
    return join(this.path, 'join.json');
  }

  /** Written by `cluster leave`: the node is no longer a member and must not start again. */
  get leftPath(): string {
    return join(this.path, 'left');
  }

  async markLeft(): Promise<void> {
    await this.write(this.leftPath, `${new Date().toISOString()}\n`, secretMode);
  }

  /** When the node left its cluster, or null. */
  async leftAt(): Promise<string | null> {
    const text = await readFile(this.leftPath, 'utf8').catch(() => null);
    return text === null ? null : text.trim();
  }

  get pidPath(): string {
    return join(this.path, 'quorate.pid');
  }

  get logPath(): string {
    return join(this.path, 'quorate.log');
  }

  async isInitialized(): Promise<boolean> {
    return (await stat(this.identityPath).catch(() => null)) !== null;
  }

  /**
   * Writes a new node's identity, certificates and admin token. The identity file goes last:
   * its presence is what makes the directory initialized, so an interrupted init leaves a
   * directory that the next init simply overwrites.
   */
  async create(identity: NodeIdentity, tls: TlsFiles, adminToken: string | null, joinVia: readonly JoinMember[] = []): Promise<void> {
    if (await this.isInitialized()) throw alreadyInitialized(this.path, await this.readIdentity());
    await mkdir(this.path, { recursive: true, mode: 0o700 });
    await chmod(this.path, 0o700);
    await mkdir(this.tlsDir, { recursive: true, mode: 0o700 });
    await this.write(this.caCertPath, tls.caCertPem, publicMode);
    if (tls.caKeyPem !== null) await this.write(this.caKeyPath, tls.caKeyPem, secretMode);
    await this.write(this.nodeCertPath, tls.nodeCertPem, publicMode);
    await this.write(this.nodeKeyPath, tls.nodeKeyPem, secretMode);
    await fsyncDir(this.tlsDir);
    if (adminToken !== null) await this.write(this.adminTokenPath, `${adminToken}\n`, secretMode);
    if (joinVia.length > 0) await this.write(this.joinPath, `${JSON.stringify(joinVia, null, 2)}\n`, secretMode);
    await this.write(this.identityPath, `${JSON.stringify({ format: identityFormat, ...identity }, null, 2)}\n`, secretMode);
    await fsyncDir(this.path);
  }

  async readIdentity(): Promise<NodeIdentity> {
    const text = await readFile(this.identityPath, 'utf8').catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw notInitialized(this.path);
      throw new QuorateError('data_dir_unreadable', `cannot read ${this.identityPath}: ${(error as Error).message}`);
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new QuorateError('data_dir_damaged', `${this.identityPath} is not valid JSON; restore it from a backup or initialize a new data directory`);
    }
    const result = identitySchema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new QuorateError('data_dir_damaged', `${this.identityPath}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'is malformed'}`);
    }
    const { nodeId, clusterId, clusterName, role, advertise, apiPort, peerPort, labels } = result.data;
    return { nodeId, clusterId, clusterName, role, advertise, apiPort, peerPort, labels };
  }

  async readTls(): Promise<TlsFiles> {
    const read = (path: string): Promise<string> =>
      readFile(path, 'utf8').catch((error: unknown) => {
        throw new QuorateError('data_dir_damaged', `cannot read ${path}: ${(error as Error).message}`);
      });
    const caKeyPem = await readFile(this.caKeyPath, 'utf8').catch(() => null);
    return { caCertPem: await read(this.caCertPath), caKeyPem, nodeCertPem: await read(this.nodeCertPath), nodeKeyPem: await read(this.nodeKeyPath) };
  }

  /** The members to join through, or [] for a node that founded its cluster. */
  async readJoinVia(): Promise<JoinMember[]> {
    const text = await readFile(this.joinPath, 'utf8').catch(() => null);
    if (text === null) return [];
    const parsed = z.array(joinMemberSchema).safeParse(JSON.parse(text));
    if (!parsed.success) throw new QuorateError('data_dir_damaged', `${this.joinPath} is malformed; join the node again`);
    return parsed.data;
  }

  get agentSettingsPath(): string {
    return join(this.path, 'agent.json');
  }

  async writeAgentSettings(settings: AgentSettings): Promise<void> {
    await this.write(this.agentSettingsPath, `${JSON.stringify(settings, null, 2)}\n`, publicMode);
  }

  async readAgentSettings(): Promise<AgentSettings> {
    const text = await readFile(this.agentSettingsPath, 'utf8').catch(() => null);
    if (text === null) throw new QuorateError('data_dir_damaged', `${this.agentSettingsPath} is missing: this worker's settings are lost; run \`quorate agent\` with --servers again`);
    let parsed;
    try {
      parsed = agentSettingsSchema.safeParse(JSON.parse(text));
    } catch {
      parsed = null;
    }
    if (parsed === null || !parsed.success) throw new QuorateError('data_dir_damaged', `${this.agentSettingsPath} is malformed; run \`quorate agent\` with --servers again to rewrite it`);
    return parsed.data;
  }

  async readAdminToken(): Promise<string | null> {
    const text = await readFile(this.adminTokenPath, 'utf8').catch(() => null);
    return text === null ? null : text.trim();
  }

  /**
   * Refuses (with what to run) a directory or a secret that others can read or write: a key or
   * token copied with the wrong mode, or a directory made 0755 by hand, hands the cluster to
   * every local user. Checked before a node starts.
   */
  async assertPrivate(): Promise<void> {
    const problems: string[] = [];
    const check = async (path: string, fix: string): Promise<void> => {
      const info = await stat(path).catch(() => null);
      if (info !== null && (info.mode & 0o077) !== 0) problems.push(`${path} is mode ${(info.mode & 0o777).toString(8).padStart(3, '0')}: chmod ${fix} ${path}`);
    };
    await check(this.path, '700');
    for (const path of [this.caKeyPath, this.nodeKeyPath, this.adminTokenPath, this.joinPath]) await check(path, '600');
    if (problems.length > 0) throw new QuorateError('insecure_permissions', `others can read this node's secrets; fix it and start again: ${problems.join('; ')}`);
  }

  /** The directory is already 0700, so a secret is never readable by others before its chmod. */
  private async write(path: string, text: string, mode: number): Promise<void> {
    await writeFileAtomic(path, new TextEncoder().encode(text), dirname(path));
    await chmod(path, mode);
  }
}

/** A random credential: 32 bytes as base64url (43 characters). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function notInitialized(path: string): QuorateError {
  return new QuorateError(
    'not_initialized',
    `${path} holds no Quorate node (no node.json). Run \`quorate cluster init --advertise IP\` to start a cluster or \`quorate cluster join ...\` to join one, or pass --data-dir (or set ${dataDirEnv}) to point at an initialized node`,
  );
}

function alreadyInitialized(path: string, identity: NodeIdentity): QuorateError {
  return new QuorateError(
    'already_initialized',
    `${path} is already initialized: it holds node ${identity.nodeId} of cluster ${identity.clusterName} (${identity.clusterId}). Start it with \`quorate server --data-dir ${path}\`, or remove the directory to start over (its data is lost)`,
  );
}
