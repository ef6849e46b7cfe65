/**
 * Mutual TLS between the bench's etcd peers, so that etcd pays for the peer encryption that
 * Quorate's peers always pay for. The CA and the node certificates come from Quorate's own
 * certificate code (ECDSA P-256, like Quorate's peers), written into the target's temp directory.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCa, issueNodeCert } from '../../src/cluster/index.js';

/**
 * etcd with --peer-client-cert-auth refuses a peer whose client certificate's IP SANs do not
 * include the connection's source address, and it does not bind its outgoing peer connections
 * to its own address (Quorate does): on one machine they all leave from 127.0.0.1, so every
 * certificate names that address too. On separate machines the node's own address would do.
 */
const loopbackSource = '127.0.0.1';

export interface PeerNode {
  readonly name: string;
  readonly host: string;
}

/**
 * Writes a fresh CA and one certificate per node (common name = the node's name, its address and
 * the loopback source address as IP SANs) into dir/tls, and returns each node's etcd peer TLS
 * flags by name.
 */
export async function writePeerCerts(dir: string, nodes: readonly PeerNode[]): Promise<ReadonlyMap<string, readonly string[]>> {
  const tlsDir = join(dir, 'tls');
  await mkdir(tlsDir, { recursive: true });
  const ca = await createCa('quorate-bench etcd peers');
  const caPath = join(tlsDir, 'ca.crt');
  await writeFile(caPath, ca.certPem);
  const flags = new Map<string, readonly string[]>();
  for (const node of nodes) {
    const cert = await issueNodeCert(ca, { nodeId: node.name, ipAddresses: [...new Set([node.host, loopbackSource])] });
    const certPath = join(tlsDir, `${node.name}.crt`);
    const keyPath = join(tlsDir, `${node.name}.key`);
    await writeFile(certPath, cert.certPem);
    await writeFile(keyPath, cert.keyPem, { mode: 0o600 });
    flags.set(node.name, ['--peer-cert-file', certPath, '--peer-key-file', keyPath, '--peer-trusted-ca-file', caPath, '--peer-client-cert-auth']);
  }
  return flags;
}
