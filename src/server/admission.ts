/**
 * Who may enter the cluster (seed 000's join tokens): creating, listing and revoking join
 * tokens (admin only), and admitting a node that presents one. Admission runs on the leader,
 * whose applied state has every token created before; it checks the token, picks the node id,
 * refuses an address another member uses, signs the node's certificate with the cluster CA and
 * records the member's addresses through the log, so two joins can never get the same id.
 * The node then starts and asks to be added as a learner (membership.ts), now with a
 * certificate its peers trust.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { certFingerprint, issueNodeCert, type CertAndKey } from '../cluster/certs.js';
import { formatJoinToken, newJoinToken, secretHash, secretMatches, type JoinRole } from '../cluster/join-token.js';
import { encodeCredentialCommand, encodeMemberCommand, encodeWorkloadCommand, type ClusterStateMachine, type JoinTokenRecord, type Member } from '../state/index.js';
import { QuorateError } from '../util/errors.js';
import { enrollArbiter, type ArbiterAdded, type ArbiterAddRequest } from './arbiter-enrollment.js';
import { defaultWatchdogTimeoutMs, formatHostPort, parseHostPort } from './config.js';
import type { NodeTls } from './node-tls.js';

/**
 * What a server holds to admit others besides its CA key (node-tls.ts): the admin token, which
 * joining servers receive. A server's data directory has both.
 */
export interface AdmissionSecrets {
  readonly adminToken: string;
}

/** Everything admitting a node takes, as of now (a CA rotation changes the CA). */
interface Signing {
  /** The CA that signs, with its key. */
  readonly ca: CertAndKey;
  /** Every CA the cluster trusts (what a new node must trust). */
  readonly trustPem: string;
  readonly adminToken: string;
}

export interface AdmitRequest {
  readonly tokenId: string;
  readonly secret: string;
  readonly role: JoinRole;
  readonly advertise: string;
  readonly apiPort: number;
  readonly peerPort: number;
  /** A wanted node id; by default node-N for an address ending in .N, or the next free node-K. */
  readonly nodeId?: string;
  /** 'now': promote as soon as caught up, even to an even number of voters (`join --promote now`). */
  readonly promote?: 'now';
}

/** What the new node needs to start: its identity, certificate and the members to dial. */
export interface Admitted {
  readonly nodeId: string;
  readonly clusterName: string;
  readonly caCertPem: string;
  /** Servers get the CA key and the admin token, so that any server can admit the next node. */
  readonly caKeyPem: string | null;
  readonly adminToken: string | null;
  readonly nodeCertPem: string;
  readonly nodeKeyPem: string;
  readonly members: readonly Member[];
}

export interface JoinTokenView {
  readonly id: string;
  readonly role: JoinRole;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly state: 'valid' | 'expired' | 'revoked';
}

export interface AdmissionContext {
  readonly state: ClusterStateMachine;
  readonly clusterName: string;
  readonly now: () => number;
  /** Replicate an encoded command through the leader. */
  readonly propose: (data: Uint8Array) => Promise<unknown>;
  /**
   * The members of the Raft configuration (voters and learners), as opposed to registrations
   * whose join never finished.
   */
  readonly activeIds: () => ReadonlySet<string>;
  /** null on nodes without admission secrets (static TOML bootstrap, workers). */
  readonly secrets: AdmissionSecrets | null;
  /** This node's certificates: the signing CA and the trust bundle come from here. */
  readonly tls: NodeTls;
  readonly clusterId: string;
}

export class Admission {
  constructor(private readonly ctx: AdmissionContext) {}

  /** The CA that signed this node's certificate: what clients and joining nodes pin. */
  caCertificate(): string {
    return this.ctx.tls.publishedCa();
  }

  async createToken(role: JoinRole, ttlMs: number): Promise<{ readonly token: string; readonly view: JoinTokenView }> {
    await signing(this.ctx);
    const token = newJoinToken(certFingerprint(this.caCertificate()));
    const createdAtMs = this.ctx.now();
    const record: JoinTokenRecord = { id: token.id, role, secretHash: secretHash(token.secret), createdAtMs, expiresAtMs: createdAtMs + ttlMs, revokedAtMs: null };
    await this.ctx.propose(encodeCredentialCommand({ op: 'tokenCreate', token: record }));
    return { token: formatJoinToken(token), view: this.view(record) };
  }

  listTokens(): JoinTokenView[] {
    return this.ctx.state.credentials.list().map((record) => this.view(record));
  }

  async revokeToken(id: string): Promise<JoinTokenView> {
    if (this.ctx.state.credentials.token(id) === undefined) throw new QuorateError('not_found', `there is no join token ${id} (see \`quorate cluster join-token --list\`)`);
    await this.ctx.propose(encodeCredentialCommand({ op: 'tokenRevoke', id, atMs: this.ctx.now() }));
    const record = this.ctx.state.credentials.token(id);
    if (record === undefined) throw new QuorateError('not_found', `join token ${id} is gone`);
    return this.view(record);
  }

  enrollArbiter(request: ArbiterAddRequest): Promise<ArbiterAdded> {
    return enrollArbiter(this.ctx, request);
  }

  /** Run on the leader. Throws QuorateError with a message the joining operator can act on. */
  async admit(request: AdmitRequest): Promise<Admitted> {
    const secrets = await signing(this.ctx);
    this.checkToken(request);
    if (isIP(request.advertise) === 0) throw new QuorateError('bad_request', `--advertise must be an IP address, not "${request.advertise}"`);
    const peerAddress = formatHostPort({ host: request.advertise, port: request.peerPort });
    const apiAddress = formatHostPort({ host: request.advertise, port: request.apiPort });
    const members = this.ctx.state.members.list();
    const active = this.ctx.activeIds();
    const sameAddress = members.find((m) => parseHostPort(m.peerAddress, 'member address').host === request.advertise);
    if (sameAddress !== undefined && active.has(sameAddress.id)) {
      throw new QuorateError(
        'address_in_use',
        `advertise address ${request.advertise} is already used by member ${sameAddress.id}; remove that member first (\`quorate node remove ${sameAddress.id}\`) or advertise another address`,
      );
    }
    const sameWorker = this.ctx.state.workload.nodes().find((n) => n.role === 'worker' && n.address === request.advertise);
    if (request.role === 'server' && sameWorker !== undefined) {
      throw new QuorateError('address_in_use', `advertise address ${request.advertise} is already used by worker ${sameWorker.id}; advertise another address`);
    }
    // A join that was admitted but never completed left its registration: the retry reuses it
    // (an agent whose data directory was lost comes back under its old id).
    const nodeId = (request.role === 'server' ? sameAddress?.id : sameWorker?.id) ?? this.pickNodeId(request, members);
    const cert = await issueNodeCert(secrets.ca, { nodeId, ipAddresses: [request.advertise] });
    if (request.role === 'server') {
      const promotion = request.promote !== 'now' ? { promotion: 'keep-odd' as const } : {};
      await this.ctx.propose(encodeMemberCommand({ op: 'memberSet', id: nodeId, peerAddress, apiAddress, ...promotion }));
    } else {
      // A worker never becomes a Raft member: it is recorded as a node that may run jobs, with
      // nothing to offer until its agent's first heartbeat describes it.
      const node = { id: nodeId, role: 'worker' as const, address: request.advertise, apiAddress, watchdogTimeoutMs: defaultWatchdogTimeoutMs, labels: {}, memoryMb: 0, cpu: 0 };
      await this.ctx.propose(encodeWorkloadCommand({ op: 'nodeRegister', node }));
    }
    const server = request.role === 'server';
    return {
      nodeId,
      clusterName: this.ctx.clusterName,
      caCertPem: secrets.trustPem,
      caKeyPem: server ? secrets.ca.keyPem : null,
      adminToken: server ? secrets.adminToken : null,
      nodeCertPem: cert.certPem,
      nodeKeyPem: cert.keyPem,
      members: this.ctx.state.members
        .list()
        .filter((m) => m.id !== nodeId && active.has(m.id))
        .map(({ id, peerAddress, apiAddress }) => ({ id, peerAddress, apiAddress })),
    };
  }

  private checkToken(request: AdmitRequest): void {
    const record = this.ctx.state.credentials.token(request.tokenId);
    if (record === undefined) {
      throw new QuorateError('bad_token', `join token ${request.tokenId} is unknown to this cluster: it was never created here, or it ended more than a week ago`);
    }
    if (!secretMatches(request.secret, record.secretHash)) throw new QuorateError('bad_token', `join token ${request.tokenId}: the secret does not match; copy the token again, whole`);
    if (record.revokedAtMs !== null) throw new QuorateError('token_revoked', `join token ${request.tokenId} was revoked at ${iso(record.revokedAtMs)}; create a new one with \`quorate cluster join-token\``);
    const now = this.ctx.now();
    if (now >= record.expiresAtMs) {
      throw new QuorateError('token_expired', `join token ${request.tokenId} expired at ${iso(record.expiresAtMs)}; create a new one with \`quorate cluster join-token --ttl 1h\``);
    }
    if (record.role !== request.role) {
      throw new QuorateError(
        'wrong_role',
        `join token ${request.tokenId} admits a ${record.role}, not a ${request.role}: \`quorate cluster join\` needs a server token and \`quorate agent\` a worker token (\`quorate cluster join-token --role ${request.role}\`)`,
      );
    }
  }

  private pickNodeId(request: AdmitRequest, members: readonly Member[]): string {
    const taken = new Set([...members.map((m) => m.id), ...this.ctx.state.workload.nodes().map((n) => n.id)]);
    if (request.nodeId !== undefined) {
      if (taken.has(request.nodeId)) throw new QuorateError('member_exists', `node id ${request.nodeId} is taken; choose another with --node-id`);
      return request.nodeId;
    }
    const octet = isIP(request.advertise) === 4 ? request.advertise.split('.').pop() : undefined;
    if (octet !== undefined && !taken.has(`node-${octet}`)) return `node-${octet}`;
    for (let k = 1; ; k++) if (!taken.has(`node-${k}`)) return `node-${k}`;
  }

  private view(record: JoinTokenRecord): JoinTokenView {
    const state = record.revokedAtMs !== null ? 'revoked' : this.ctx.now() >= record.expiresAtMs ? 'expired' : 'valid';
    return { id: record.id, role: record.role, createdAt: iso(record.createdAtMs), expiresAt: iso(record.expiresAtMs), state };
  }
}

/** The CA key and admin token this node admits with; throws when it holds none (a TOML bootstrap, an arbiter). */
export async function signing(ctx: AdmissionContext): Promise<Signing> {
  const ca = ctx.secrets === null ? null : await ctx.tls.signingCa();
  if (ctx.secrets === null || ca === null) {
    throw new QuorateError('unavailable', 'this node cannot admit nodes: it holds no cluster CA key (a static TOML bootstrap or an arbiter); ask a server made by `quorate cluster init` or `join`');
  }
  return { ca, trustPem: ctx.tls.material.caPem, adminToken: ctx.secrets.adminToken };
}

const admitSchema = z
  .object({
    tokenId: z.string().regex(/^[0-9a-f]{16}$/, 'a token id is 16 hex digits'),
    secret: z.string().min(1).max(200),
    role: z.enum(['server', 'worker']),
    advertise: z.string().min(1).max(100),
    apiPort: z.number().int().min(1).max(65_535),
    peerPort: z.number().int().min(1).max(65_535),
    nodeId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "1-64 letters, digits, '.', '_' or '-'").optional(),
    promote: z.literal('now').optional(),
  })
  .strict();

/** A join request as it arrives (HTTP body or forwarded RPC), checked field by field. */
export function parseAdmitRequest(body: unknown): AdmitRequest {
  const parsed = admitSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new QuorateError('bad_request', `join request: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const { nodeId, promote, ...rest } = parsed.data;
  return { ...rest, ...(nodeId === undefined ? {} : { nodeId }), ...(promote === undefined ? {} : { promote }) };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

