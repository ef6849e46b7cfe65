/**
 * Chromium flags under which the browser trusts an E2eCluster's API certificates, and only them.
 * Chromium reads trust anchors from an NSS database, which would need certutil; instead each
 * node's certificate is checked here against the cluster CA, and the browser is told to accept
 * exactly those public keys (--ignore-certificate-errors-spki-list, honoured because Playwright
 * runs it with a user data directory). Any other certificate still fails, as it would for a user.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import type { E2eCluster } from './harness.js';
import { apiPort } from './harness.js';

/** The base64 SHA-256 of the SubjectPublicKeyInfo of the certificate node i serves, verified against the CA. */
function servedKeyHash(cluster: E2eCluster, i: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: cluster.host(i), port: apiPort, ca: cluster.caPem }, () => {
      const certificate = new X509Certificate(socket.getPeerCertificate().raw);
      socket.destroy();
      resolve(createHash('sha256').update(certificate.publicKey.export({ type: 'spki', format: 'der' })).digest('base64'));
    });
    socket.once('error', reject);
  });
}

/** Launch arguments for chromium; every node must be running. */
export async function chromiumTrustingCa(cluster: E2eCluster): Promise<string[]> {
  const hashes = await Promise.all(Array.from({ length: cluster.size }, (_, i) => servedKeyHash(cluster, i)));
  return [`--ignore-certificate-errors-spki-list=${hashes.join(',')}`];
}
