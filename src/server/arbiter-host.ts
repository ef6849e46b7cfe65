/**
 * `quorate arbiter --listen 127.0.0.9:8090` (seed 003 option 2, corosync-qnetd's role): one
 * lightweight process that is a voting member of several clusters at once. For each cluster
 * it runs a ServerNode in arbiter mode (it stores the log and the state, so it can vote and,
 * when it must, lead long enough to repair a lagging data node; it runs no jobs and serves no
 * API), all behind one listening address: dialers name their cluster in TLS's SNI, and each
 * cluster's mutual TLS uses that cluster's CA only (transport/shared-listener.ts).
 *
 * Its data directory:
 *   arbiter.crt, arbiter.key   the arbiter's own certificate (enrollment; its fingerprint is what
 *                              `cluster arbiter add --fingerprint` pins)
 *   clusters/<cluster id>/     one node data directory per cluster served (cluster/data-dir.ts)
 *
 * Connections that name no served cluster reach the enrollment API (arbiter-protocol.ts).
 */
import { X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { certFingerprint, createCa } from '../cluster/certs.js';
import { DataDir } from '../cluster/data-dir.js';
import { writeFileAtomic } from '../storage/files.js';
import { SharedPeerListener } from '../transport/index.js';
import { isQuorateError, QuorateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { parseEnrollment, type ArbiterEnrollment, type ArbiterInfo, type ServedCluster } from './arbiter-protocol.js';
import type { HostPort } from './config.js';
import { joiningCluster, serverConfigFromDataDir } from './data-dir-config.js';
import { ServerNode } from './node.js';

export interface ArbiterHostOptions {
  readonly dataDir: string;
  readonly listen: HostPort;
  /** A logger for one cluster's node (fields name the cluster), and for the host (clusterId null). */
  readonly log: (clusterId: string | null) => Logger;
}

/**
 * An arbiter's elections wait twice as long as a data node's: after a leader fails, the
 * surviving data node usually stands first (with the arbiter's vote), so leadership rarely has
 * to move twice. It still stands when no data node does.
 */
const electionSlowdown = 2;
const restartPauseMs = 1_000;
const enrollmentBytesMax = 64 * 1024;
const handshakeTimeoutMs = 5_000;

export class ArbiterHost {
  private readonly nodes = new Map<string, ServerNode>();
  private stopping = false;

  private constructor(
    private readonly options: ArbiterHostOptions,
    private readonly listener: SharedPeerListener,
    readonly fingerprint: string,
  ) {}

  static async start(options: ArbiterHostOptions): Promise<ArbiterHost> {
    await mkdir(join(options.dataDir, 'clusters'), { recursive: true, mode: 0o700 });
    const identity = await loadIdentity(options.dataDir, options.listen.host);
    const holder: { host: ArbiterHost | null } = { host: null };
    const enrollment = createServer((request, response) => void holder.host?.serveEnrollment(request, response));
    const listener = await SharedPeerListener.start({
      host: options.listen.host,
      port: options.listen.port,
      identity,
      unrouted: (socket) => enrollment.emit('connection', socket),
      handshakeTimeoutMs,
      log: (level, message, fields) => options.log(null).log(level, message, fields),
    });
    const host = new ArbiterHost(options, listener, certFingerprint(identity.certPem));
    holder.host = host;
    try {
      for (const clusterId of (await readdir(join(options.dataDir, 'clusters'))).sort()) await host.startCluster(clusterId);
    } catch (error) {
      await host.stop();
      throw error;
    }
    return host;
  }

  get address(): string {
    return this.listener.address;
  }

  info(): ArbiterInfo {
    const clusters: ServedCluster[] = [...this.nodes].map(([clusterId, node]) => {
      const status = node.status();
      return { clusterId, clusterName: node.config.clusterName, nodeId: node.id, role: status.role, leader: status.leader, term: status.term };
    });
    return { arbiter: true, clusters };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    // Leadership is handed over first, as a server does on SIGTERM.
    await Promise.all([...this.nodes.values()].map((node) => node.stop({ transferLeadership: true })));
    this.nodes.clear();
    await this.listener.close();
  }

  private clusterDir(clusterId: string): DataDir {
    return new DataDir(join(this.options.dataDir, 'clusters', clusterId));
  }

  private async startCluster(clusterId: string): Promise<void> {
    const dir = this.clusterDir(clusterId);
    const identity = await dir.readIdentity();
    const base = serverConfigFromDataDir(dir, identity, joiningCluster(identity, await dir.readJoinVia()));
    const config = { ...base, runJobs: false, electionTimeoutMs: base.electionTimeoutMs * electionSlowdown };
    const log = this.options.log(clusterId);
    const node = await ServerNode.start(config, { log, arbiter: { listener: this.listener } });
    this.nodes.set(clusterId, node);
    node.events.once('fatal', () => void this.restart(clusterId, node));
    log.log('info', 'serving as arbiter', { cluster: clusterId, node: node.id });
  }

  /** A cluster whose Raft driver failed starts again from its durable state; the others go on. */
  private async restart(clusterId: string, node: ServerNode): Promise<void> {
    await node.stop();
    if (this.nodes.get(clusterId) === node) this.nodes.delete(clusterId);
    await sleep(restartPauseMs);
    if (this.stopping) return;
    await this.startCluster(clusterId).catch((error: unknown) => this.options.log(clusterId).log('error', 'could not restart this cluster; restart the arbiter', { error: String(error) }));
  }

  private async serveEnrollment(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    try {
      if (request.method === 'GET' && request.url === '/v1/arbiter') reply(200, this.info());
      else if (request.method === 'POST' && request.url === '/v1/arbiter/clusters') reply(200, await this.enroll(parseEnrollment(JSON.parse(await readBody(request)))));
      else reply(404, { error: 'not_found', message: `an arbiter serves GET /v1/arbiter and POST /v1/arbiter/clusters, not ${request.method ?? ''} ${request.url ?? ''}` });
    } catch (error) {
      if (error instanceof SyntaxError) reply(400, { error: 'bad_request', message: 'the body is not JSON' });
      else if (isQuorateError(error)) reply(error.code === 'member_exists' ? 409 : 400, { error: error.code, message: error.message });
      else {
        this.options.log(null).log('error', 'enrollment failed', { error: String(error) });
        reply(500, { error: 'internal', message: 'the arbiter failed; see its log' });
      }
    }
  }

  /** Serve one more cluster; asking again for a cluster already served (as the same node) is fine. */
  private async enroll(enrollment: ArbiterEnrollment): Promise<{ clusterId: string; nodeId: string }> {
    const { clusterId, nodeId } = enrollment;
    if (!new X509Certificate(enrollment.nodeCertPem).verify(new X509Certificate(enrollment.caCertPem).publicKey)) throw new QuorateError('bad_request', 'the node certificate was not issued by the cluster CA');
    const served = this.nodes.get(clusterId);
    if (served !== undefined) {
      if (served.id !== nodeId) throw new QuorateError('member_exists', `this arbiter already serves cluster ${clusterId} as ${served.id}`);
      return { clusterId, nodeId };
    }
    const dir = this.clusterDir(clusterId);
    const { host, port } = this.options.listen;
    await dir.create(
      { nodeId, clusterId, clusterName: enrollment.clusterName, role: 'server', advertise: host, apiPort: port, peerPort: port, labels: {} },
      { caCertPem: enrollment.caCertPem, caKeyPem: null, nodeCertPem: enrollment.nodeCertPem, nodeKeyPem: enrollment.nodeKeyPem },
      null,
      enrollment.members,
    );
    await this.startCluster(clusterId);
    return { clusterId, nodeId };
  }
}

/** The arbiter's own certificate, made on first start (self-signed: it is pinned by fingerprint). */
async function loadIdentity(dataDir: string, host: string): Promise<{ keyPem: string; certPem: string }> {
  const certPath = join(dataDir, 'arbiter.crt');
  const keyPath = join(dataDir, 'arbiter.key');
  const existing = await readFile(certPath, 'utf8').catch(() => null);
  if (existing !== null) return { certPem: existing, keyPem: await readFile(keyPath, 'utf8') };
  const made = await createCa(`quorate arbiter ${host}`);
  await writeFileAtomic(keyPath, Buffer.from(made.keyPem), dataDir);
  await writeFileAtomic(certPath, Buffer.from(made.certPem), dataDir);
  return made;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    bytes += buffer.byteLength;
    if (bytes > enrollmentBytesMax) throw new QuorateError('bad_request', `an enrollment is at most ${enrollmentBytesMax} bytes`);
    chunks.push(buffer);
  }
  // Decoded once, whole: a character split across chunks stays intact.
  return Buffer.concat(chunks).toString('utf8');
}
