/**
 * A node's TLS identity while it runs: its certificate, key and the CAs it trusts, shared by the
 * peer transport and the API, replaced without a restart.
 *
 * - Files (a data directory, or a `[tls]` table): checked every few seconds; when the operator's
 *   PKI (or this node) writes new ones, they are validated and presented on new connections.
 * - Renewal: a certificate is renewed once less than `renewBeforeMs` (30 days; a third of its
 *   lifetime for short ones) is left. A node holding the CA key (a server's data directory) or
 *   the cluster secret issues itself a new one; an arbiter asks the leader (`renewThrough`); a
 *   `[tls]` node cannot, and `cluster status` warns about it instead.
 * - CA rotation (ca-rotation.ts) installs a new trust bundle and, when the signing CA changed,
 *   a certificate from it through `install`.
 *
 * Files are replaced so that a crash leaves a matching pair: the new certificate and key are
 * written beside the old ones (`*.next`), then the key and the certificate are renamed in; a
 * certificate left behind in `.next` is finished on the next load when it matches the key.
 */
import { EventEmitter } from 'node:events';
import { readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { certFingerprint, certInfo, deriveCa, issueNodeCert, issuedBy, keyMatches, splitCertificates, type CertAndKey } from '../cluster/certs.js';
import { fsyncDir, writeFileAtomic } from '../storage/files.js';
import { QuorateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import { certNames, tlsMaterial, type TlsIdentityConfig, type TlsMaterial } from './tls-material.js';

export const renewBeforeMs = 30 * 24 * 60 * 60 * 1000;
const checkIntervalMs = 5_000;

export interface NodeTlsInfo {
  /** When this node's certificate expires (ISO 8601). */
  readonly certificateNotAfter: string;
  /** Fingerprint of the trusted CA that signed this node's certificate; null when none did. */
  readonly certificateIssuer: string | null;
  /** Fingerprints of every CA this node trusts (two during a CA rotation). */
  readonly trustedCas: readonly string[];
  /** The earliest expiry among the trusted CAs (ISO 8601). */
  readonly caNotAfter: string;
}

interface Files {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** The CA key this node signs its own renewals with; null when it has none. */
  readonly caKey: string | null;
}

export class NodeTls extends EventEmitter<{ changed: [TlsMaterial] }> {
  private current: TlsMaterial;
  private described: Described;
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;
  private warnedRenewal = false;
  /** Where a node without the CA key gets a renewed certificate (an arbiter asks the leader). */
  private issuer: (() => Promise<CertAndKey>) | null = null;

  private constructor(
    private readonly config: TlsIdentityConfig,
    private readonly log: Logger,
    private readonly now: () => number,
    material: TlsMaterial,
    described: Described,
  ) {
    super();
    this.current = material;
    this.described = described;
  }

  static async load(config: TlsIdentityConfig, log: Logger, now: () => number = Date.now): Promise<NodeTls> {
    const files = filesOf(config);
    if (files !== null) await finishInterruptedWrite(files);
    const material = await tlsMaterial(config);
    return new NodeTls(config, log, now, material, await describe(material));
  }

  get material(): TlsMaterial {
    return this.current;
  }

  info(): NodeTlsInfo {
    return this.described.info;
  }

  /** Renew through `issuer` when this node holds no CA key of its own. */
  renewThrough(issuer: () => Promise<CertAndKey>): void {
    this.issuer = issuer;
  }

  /** Check the files and the expiry every few seconds until stop(). */
  start(): void {
    this.timer ??= setInterval(() => void this.check(), checkIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Pick up changed files, then renew the certificate when due; errors are logged, never thrown. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce()
      .catch((error: unknown) => this.log.log('warn', 'checking the TLS certificate failed', { error: error instanceof Error ? error.message : String(error) }))
      .finally(() => {
        this.checking = null;
      });
    return this.checking;
  }

  /** The CA that signed this node's certificate (the first trusted one if none did): what clients pin. */
  publishedCa(): string {
    const cas = splitCertificates(this.current.caPem);
    return cas.find((ca) => issuedBy(this.current.certPem, ca)) ?? cas[0] ?? this.current.caPem;
  }

  /** The CA key this node signs with, and its certificate from the trust bundle; null without one. */
  async signingCa(): Promise<CertAndKey | null> {
    const files = filesOf(this.config);
    if (this.config.tls.kind === 'secret') return deriveCa(this.config.tls.secret, this.config.clusterName);
    if (files?.caKey == null) return null;
    const keyPem = await readFile(files.caKey, 'utf8').catch(() => null);
    if (keyPem === null) return null;
    const certPem = splitCertificates(this.current.caPem).find((ca) => keyMatches(ca, keyPem));
    return certPem === undefined ? null : { certPem, keyPem };
  }

  /**
   * Trust `caPem` from now on and, when given, present `issued` (with `caKey`, the key of the
   * CA that signs from now on). Written to the files first, so a restart finds the same.
   */
  async install(change: { readonly caPem: string; readonly issued?: CertAndKey; readonly caKeyPem?: string }): Promise<void> {
    const next: TlsMaterial = { caPem: change.caPem, certPem: change.issued?.certPem ?? this.current.certPem, keyPem: change.issued?.keyPem ?? this.current.keyPem };
    if (!splitCertificates(next.caPem).some((ca) => issuedBy(next.certPem, ca))) {
      throw new QuorateError('tls_mismatch', 'refusing a trust bundle that does not include the CA of the certificate this node presents');
    }
    const files = filesOf(this.config);
    if (files !== null) {
      if (change.caKeyPem !== undefined && files.caKey !== null) await writeFileAtomic(files.caKey, Buffer.from(change.caKeyPem), dirname(files.caKey));
      await writeFileAtomic(files.ca, Buffer.from(next.caPem), dirname(files.ca));
      if (change.issued !== undefined) await writePair(files, change.issued);
    }
    await this.adopt(next);
  }

  private async checkOnce(): Promise<void> {
    if (filesOf(this.config) !== null) {
      const read = await tlsMaterial(this.config).catch(() => null);
      if (read !== null && (read.caPem !== this.current.caPem || read.certPem !== this.current.certPem || read.keyPem !== this.current.keyPem)) {
        await this.adoptFromFiles(read);
      }
    }
    await this.renewIfDue();
  }

  private async adoptFromFiles(read: TlsMaterial): Promise<void> {
    // The pair is written key first: a certificate and key that do not match yet are mid-write.
    if (!keyMatches(read.certPem, read.keyPem)) return;
    if (!splitCertificates(read.caPem).some((ca) => issuedBy(read.certPem, ca))) {
      this.log.log('warn', 'the TLS files changed, but no CA in the trust file signed the certificate; keeping the previous ones');
      return;
    }
    await this.adopt(read);
    this.log.log('info', 'picked up new TLS files', { notAfter: this.described.info.certificateNotAfter });
  }

  private async adopt(material: TlsMaterial): Promise<void> {
    const described = await describe(material);
    this.current = material;
    this.described = described;
    this.warnedRenewal = false;
    this.emit('changed', material);
  }

  private async renewIfDue(): Promise<void> {
    // Checked every few seconds: the validity was read from the certificate when it was adopted.
    const { notBeforeMs, notAfterMs } = this.described;
    const left = notAfterMs - this.now();
    if (left >= Math.min(renewBeforeMs, (notAfterMs - notBeforeMs) / 3)) return;
    const ca = await this.signingCa();
    if (ca === null && this.issuer !== null) {
      await this.install({ caPem: this.current.caPem, issued: await this.issuer() });
      this.log.log('info', "renewed this node's certificate through the leader", { notAfter: this.described.info.certificateNotAfter });
      return;
    }
    if (ca === null) {
      if (!this.warnedRenewal) {
        this.log.log('warn', `this node's certificate expires at ${this.described.info.certificateNotAfter} and it holds no CA key to renew it itself: a worker gets a new one from the leader with a heartbeat, other nodes need new certificate files`);
      }
      this.warnedRenewal = true;
      return;
    }
    const issued = await issueNodeCert(ca, { nodeId: this.config.nodeId, ...certNames(this.config) });
    await this.install({ caPem: this.current.caPem, issued });
    this.log.log('info', 'renewed this node\'s certificate', { notAfter: this.described.info.certificateNotAfter });
  }
}

function filesOf(config: TlsIdentityConfig): Files | null {
  const tls = config.tls;
  return tls.kind === 'files' ? { ca: tls.caFile, cert: tls.certFile, key: tls.keyFile, caKey: tls.caKeyFile ?? null } : null;
}

/** What the node reports about its material, and its certificate's validity for the renewal check. */
interface Described {
  readonly info: NodeTlsInfo;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

async function describe(material: TlsMaterial): Promise<Described> {
  const cas = splitCertificates(material.caPem);
  const cert = await certInfo(material.certPem);
  const caExpiries = await Promise.all(cas.map(async (ca) => (await certInfo(ca)).notAfter.getTime()));
  const issuer = cas.find((ca) => issuedBy(material.certPem, ca));
  const info = {
    certificateNotAfter: cert.notAfter.toISOString(),
    certificateIssuer: issuer === undefined ? null : certFingerprint(issuer),
    trustedCas: cas.map(certFingerprint),
    caNotAfter: new Date(Math.min(...caExpiries)).toISOString(),
  };
  return { info, notBeforeMs: cert.notBefore.getTime(), notAfterMs: cert.notAfter.getTime() };
}

const next = (path: string): string => `${path}.next`;

/** Key first, then certificate, each through a `.next` file renamed in (see the module comment). */
async function writePair(files: Files, issued: CertAndKey): Promise<void> {
  await writeFileAtomic(next(files.cert), Buffer.from(issued.certPem), dirname(files.cert));
  await writeFileAtomic(next(files.key), Buffer.from(issued.keyPem), dirname(files.key));
  await rename(next(files.key), files.key);
  await rename(next(files.cert), files.cert);
  await fsyncDir(dirname(files.cert));
}

async function finishInterruptedWrite(files: Files): Promise<void> {
  const [cert, pendingKey, key] = await Promise.all([readFile(next(files.cert), 'utf8').catch(() => null), readFile(next(files.key), 'utf8').catch(() => null), readFile(files.key, 'utf8').catch(() => null)]);
  if (pendingKey !== null || cert === null || key === null || !keyMatches(cert, key)) {
    // The key was not renamed in yet: the old pair is intact; drop the new one.
    await Promise.all([rm(next(files.cert), { force: true }), rm(next(files.key), { force: true })]);
    return;
  }
  await rename(next(files.cert), files.cert);
  await fsyncDir(dirname(files.cert));
}
