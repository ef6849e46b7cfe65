/**
 * The gRPC listener's TLS, following the node's certificate as it is renewed or rotated
 * (NodeTls 'changed'). grpc-js cannot change the credentials of a bound server, so rather than
 * restarting the listener (which would cut every open watch and keep-alive stream), the
 * credentials are grpc-js's certificate-provider kind: it calls setSecureContext on the
 * listening HTTP/2 server whenever the provider reports a new identity, and new connections
 * get the new certificate while open ones keep theirs. Updates are delivered on a microtask,
 * as grpc-js's own file-watching provider delivers them asynchronously: the server registers
 * its watcher right after subscribing, and an update delivered before that would be lost.
 */
import { experimental, ServerCredentials, type ServerCredentials as Credentials } from '@grpc/grpc-js';
import type { TlsMaterial } from '../server/index.js';

type IdentityListener = experimental.IdentityCertificateUpdateListener;

export class TlsMaterialProvider implements experimental.CertificateProvider {
  private readonly listeners = new Set<IdentityListener>();

  constructor(private material: TlsMaterial) {}

  /** Present `material` on new connections from now on. */
  update(material: TlsMaterial): void {
    this.material = material;
    for (const listener of this.listeners) this.deliver(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.listeners.add(listener);
    this.deliver(listener);
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.listeners.delete(listener);
  }

  // Clients are not asked for certificates: they authenticate with tokens, as on the HTTP API.
  addCaCertificateListener(): void {}

  removeCaCertificateListener(): void {}

  private deliver(listener: IdentityListener): void {
    const { certPem, keyPem } = this.material;
    queueMicrotask(() => {
      if (this.listeners.has(listener)) listener({ certificate: Buffer.from(certPem), privateKey: Buffer.from(keyPem) });
    });
  }
}

/** TLS credentials that follow `provider`, or plaintext when there is none (--insecure-api on loopback). */
export function serverCredentials(provider: TlsMaterialProvider | null): Credentials {
  return provider === null ? ServerCredentials.createInsecure() : experimental.createCertificateProviderServerCredentials(provider, null, false);
}
