/**
 * CA rotation (`quorate cluster ca rotate`) without losing availability: a new CA is made and
 * carried through the replicated log in three steps (state/credentials.ts ClusterTrust), each
 * begun by the leader only once every node has done the one before, so at no moment does a node
 * present a certificate another node does not trust:
 *
 * 1. `trust`: every node adds the new CA to the CAs it trusts; certificates stay as they are.
 * 2. `switch`: every node gets a certificate from the new CA. Servers sign their own with the
 *    new CA key, which travels in the log sealed under the admin token (cluster/seal.ts);
 *    an arbiter, which has no admin token, asks the leader (peer request `tls.issue`), and
 *    workers get theirs in a heartbeat answer (`grant`).
 * 3. `done`: the old CA is dropped from every trust bundle.
 *
 * Every node follows the replicated trust on its own (`follow`), also after a restart or when it
 * was unreachable for a while: the leader waits for it. A worker that is down meanwhile is not
 * waited for; if it comes back after the old CA was dropped, it cannot verify the servers any
 * more and must be joined again. Join tokens pin the CA that signed the server's certificate,
 * so tokens made before the switch stop working after it.
 */
import { certFingerprint, createCa, issueNodeCert, issuedBy, splitCertificates, type CertAndKey } from '../cluster/certs.js';
import { seal, unseal } from '../cluster/seal.js';
import { encodeCredentialCommand, type ClusterStateMachine, type ClusterTrust } from '../state/index.js';
import { QuorateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { NodeDescription, TlsGrant, TlsReport } from '../workload/protocol.js';
import type { NodeReport } from './cluster-status.js';
import { parseHostPort, type ServerConfig } from './config.js';
import { renewBeforeMs, type NodeTls } from './node-tls.js';
import { certNames } from './tls-material.js';

export interface CaRotationView {
  /** null: no rotation has run; the CA is the one the cluster was created with. */
  readonly step: ClusterTrust['step'] | null;
  /** Fingerprints of the CAs the cluster trusts; the last one signs. */
  readonly cas: readonly string[];
  /** Those CAs' certificates (PEM): what clients trust to follow the rotation. */
  readonly caPem: string;
  /** The nodes the next step waits for, each with the reason. */
  readonly waitingFor: readonly string[];
}

export interface CaRotationContext {
  readonly config: ServerConfig;
  readonly clusterId: string;
  readonly state: ClusterStateMachine;
  readonly tls: NodeTls;
  /** Servers hold it (they open the sealed CA key with it); null on an arbiter. */
  readonly adminToken: string | null;
  readonly isLeader: () => boolean;
  readonly leader: () => string | null;
  readonly propose: (data: Uint8Array) => Promise<unknown>;
  /** Every member's own report (null when it did not answer). */
  readonly memberReports: () => Promise<readonly { readonly id: string; readonly report: NodeReport | null }[]>;
  readonly workerReport: (id: string) => TlsReport | undefined;
  readonly request: (to: string, method: string, body: unknown, timeoutMs: number) => Promise<unknown>;
  readonly log: Logger;
}

const advanceEveryMs = 1_000;
const issueTimeoutMs = 5_000;

export class CaRotation {
  /** The trust this node has installed (object identity: the registry makes a new one per change). */
  private followed: ClusterTrust | null = null;
  private busy = false;
  private lastRound = 0;

  constructor(private readonly ctx: CaRotationContext) {}

  /** Make a new CA and start trusting it everywhere; on any server that holds the CA key. */
  async begin(): Promise<CaRotationView> {
    const { config, state, tls, adminToken } = this.ctx;
    const current = state.credentials.trust;
    if (current !== null && current.step !== 'done') throw new QuorateError('conflict', `a CA rotation is under way (step ${current.step}); wait for it to finish (\`quorate cluster ca rotate --status\`)`);
    if (config.tls.kind === 'secret') {
      throw new QuorateError('unavailable', "this cluster's CA derives from its cluster_secret: rotate it by giving every node a new secret (a full restart), or use [tls] files from your own PKI");
    }
    if (adminToken === null || (await tls.signingCa()) === null) {
      throw new QuorateError('unavailable', 'this node holds no CA key (a [tls] files bootstrap or an arbiter); run the command against a server made by `quorate cluster init` or `join`');
    }
    const ca = await createCa(`Quorate cluster CA ${config.clusterName} ${new Date().toISOString().slice(0, 10)}`);
    const cas = [...(current?.cas ?? splitCertificates(tls.material.caPem)), ca.certPem];
    const trust: ClusterTrust = { cas, sealedKey: seal(ca.keyPem, adminToken, this.ctx.clusterId), step: 'trust', atMs: Date.now() };
    await this.propose(trust);
    this.ctx.log.log('info', 'CA rotation begun: every node now trusts the new CA too', { ca: certFingerprint(ca.certPem) });
    return this.view();
  }

  /** On the leader: where the rotation is and whom its next step waits for. */
  async view(): Promise<CaRotationView> {
    const trust = this.ctx.state.credentials.trust;
    if (trust === null) {
      const caPem = this.ctx.tls.material.caPem;
      return { step: null, cas: splitCertificates(caPem).map(certFingerprint), caPem, waitingFor: [] };
    }
    return { step: trust.step, cas: trust.cas.map(certFingerprint), caPem: trust.cas.join(''), waitingFor: trust.step === 'done' ? [] : await this.waiting(trust) };
  }

  /** Every housekeeping round: follow the replicated trust here, and on the leader move the rotation on. */
  tick(now: number): void {
    if (this.busy || now - this.lastRound < advanceEveryMs) return;
    this.lastRound = now;
    this.busy = true;
    void this.round()
      .catch((error: unknown) => this.ctx.log.log('warn', 'CA rotation: a step failed; retrying', { error: error instanceof Error ? error.message : String(error) }))
      .finally(() => {
        this.busy = false;
      });
  }

  /** On the leader, for a worker's heartbeat: the trust and certificate it should have, when they differ. */
  async grant(node: NodeDescription, report: TlsReport): Promise<TlsGrant | undefined> {
    const trust = this.ctx.state.credentials.trust;
    const caPem = trust === null ? this.ctx.tls.material.caPem : trust.cas.join('');
    const wanted = splitCertificates(caPem).map(certFingerprint);
    const trustDiffers = wanted.length !== report.trustedCas.length || !wanted.every((fp) => report.trustedCas.includes(fp));
    const signingPem = trust === null || trust.step === 'trust' ? null : trust.cas.at(-1) ?? null;
    const switching = signingPem !== null && report.certificateIssuer !== certFingerprint(signingPem);
    const expiring = Date.parse(report.certificateNotAfter) - Date.now() < renewBeforeMs;
    if (!trustDiffers && !switching && !expiring) return undefined;
    if (!switching && !expiring) return { caPem };
    const ca = await this.signingNow(trust);
    if (ca === null) return trustDiffers ? { caPem } : undefined;
    const issued = await issueNodeCert(ca, { nodeId: node.id, ipAddresses: [node.address] });
    this.ctx.log.log('info', 'issued a worker a new certificate', { node: node.id, reason: switching ? 'CA rotation' : 'renewal' });
    return { caPem, issued };
  }

  /** On the leader, for a member without the CA key (an arbiter): a certificate for its address. */
  async issueFor(memberId: string): Promise<CertAndKey> {
    if (!this.ctx.isLeader()) throw new QuorateError('not_leader', `node ${this.ctx.config.nodeId} is not the leader`);
    const member = this.ctx.state.members.get(memberId);
    if (member === undefined) throw new QuorateError('not_found', `${memberId} is not a member`);
    const ca = await this.signingNow(this.ctx.state.credentials.trust);
    if (ca === null) throw new QuorateError('unavailable', 'the leader holds no CA key');
    return issueNodeCert(ca, { nodeId: memberId, ipAddresses: [parseHostPort(member.peerAddress, 'member address').host] });
  }

  private async round(): Promise<void> {
    const trust = this.ctx.state.credentials.trust;
    if (trust === null) return;
    if (trust !== this.followed) await this.follow(trust);
    if (trust.step !== 'done' && this.ctx.isLeader() && (await this.waiting(trust)).length === 0) {
      const next: ClusterTrust = trust.step === 'trust' ? { ...trust, step: 'switch', atMs: Date.now() } : { ...trust, cas: trust.cas.slice(-1), step: 'done', atMs: Date.now() };
      await this.propose(next);
      this.ctx.log.log('info', next.step === 'switch' ? 'CA rotation: every node trusts the new CA; nodes now get certificates from it' : 'CA rotation done: every node presents a certificate from the new CA; the old CA is no longer trusted');
    }
  }

  /** Install the replicated trust here: the bundle, and from the switch on a certificate from the new CA. */
  private async follow(trust: ClusterTrust): Promise<void> {
    const { tls, adminToken, config } = this.ctx;
    const caPem = trust.cas.join('');
    const signingPem = trust.cas.at(-1) ?? '';
    const needCert = trust.step !== 'trust' && !issuedBy(tls.material.certPem, signingPem);
    if (!needCert && tls.material.caPem === caPem) {
      this.followed = trust;
      return;
    }
    // Servers keep the signing key from the switch on: they renew and admit with it.
    const caKeyPem = trust.step !== 'trust' && adminToken !== null ? unseal(trust.sealedKey, adminToken, this.ctx.clusterId) : undefined;
    let issued: CertAndKey | undefined;
    if (needCert) {
      issued = caKeyPem !== undefined ? await issueNodeCert({ certPem: signingPem, keyPem: caKeyPem }, { nodeId: config.nodeId, ...certNames(config) }) : await this.requestCertificate();
    }
    await tls.install({ caPem, ...(issued === undefined ? {} : { issued }), ...(caKeyPem === undefined ? {} : { caKeyPem }) });
    this.followed = trust;
    this.ctx.log.log('info', `CA rotation: ${trust.step} step installed`, { trusted: trust.cas.length, newCertificate: issued !== undefined });
  }

  /** A certificate for this node from the leader (for a node without the CA key: an arbiter). */
  async requestCertificate(): Promise<CertAndKey> {
    const leader = this.ctx.leader();
    if (leader === null) throw new QuorateError('no_leader', 'no leader to issue this node a certificate from the new CA');
    const answer = (await this.ctx.request(leader, 'tls.issue', null, issueTimeoutMs)) as Partial<CertAndKey> | null;
    if (typeof answer?.certPem !== 'string' || typeof answer.keyPem !== 'string') throw new QuorateError('bad_response', `${leader} answered tls.issue without a certificate`);
    return { certPem: answer.certPem, keyPem: answer.keyPem };
  }

  /** The CA that signs now: the rotation's new one from its switch on, else this node's own. */
  private async signingNow(trust: ClusterTrust | null): Promise<CertAndKey | null> {
    const { adminToken } = this.ctx;
    if (trust !== null && trust.step !== 'trust' && adminToken !== null) {
      return { certPem: trust.cas.at(-1) ?? '', keyPem: unseal(trust.sealedKey, adminToken, this.ctx.clusterId) };
    }
    return this.ctx.tls.signingCa();
  }

  /** The nodes that have not done the current step yet (members first, then ready workers). */
  private async waiting(trust: ClusterTrust): Promise<string[]> {
    const fingerprints = trust.cas.map(certFingerprint);
    const signing = fingerprints.at(-1);
    const behind = (trusted: readonly string[] | undefined, issuer: string | null | undefined): string | null => {
      if (!fingerprints.every((fp) => trusted?.includes(fp) === true)) return 'does not trust the new CA yet';
      if (trust.step === 'switch' && issuer !== signing) return 'has no certificate from the new CA yet';
      return null;
    };
    const out: string[] = [];
    for (const { id, report } of await this.ctx.memberReports()) {
      const reason = report === null ? 'is unreachable' : behind(report.trustedCas, report.certificateIssuer);
      if (reason !== null) out.push(`${id} ${reason}`);
    }
    for (const node of this.ctx.state.workload.nodes()) {
      if (node.role !== 'worker' || node.status !== 'ready') continue;
      const report = this.ctx.workerReport(node.id);
      const reason = report === undefined ? 'has not sent a heartbeat to this leader yet' : behind(report.trustedCas, report.certificateIssuer);
      if (reason !== null) out.push(`${node.id} ${reason}`);
    }
    return out;
  }

  private async propose(trust: ClusterTrust): Promise<void> {
    const result = (await this.ctx.propose(encodeCredentialCommand({ op: 'trustSet', trust }))) as { ok: boolean; message?: string };
    if (!result.ok) throw new QuorateError('conflict', result.message ?? 'the trust change was refused');
  }
}
