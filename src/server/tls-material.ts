/**
 * The peer transport's TLS identity. With a shared `cluster_secret` (static bootstrap, seed
 * 002) every node derives the same CA key from the secret and issues itself a certificate for
 * its advertise address at each start, so no files need distributing; with a `[tls]` table the
 * CA, certificate and key come from files made by the operator's own PKI.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { deriveCa, issueNodeCert } from '../cluster/certs.js';
import { QuorateError } from '../util/errors.js';
import type { ServerConfig } from './config.js';

export interface TlsMaterial {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export async function tlsMaterial(config: ServerConfig): Promise<TlsMaterial> {
  const tls = config.tls;
  if (tls.kind === 'secret') {
    const ca = await deriveCa(tls.secret, config.clusterName);
    // An advertise address may be a host name; it then goes into the certificate as a DNS name.
    const host = config.advertise.host;
    const node = await issueNodeCert(ca, isIP(host) === 0 ? { nodeId: config.nodeId, ipAddresses: [], dnsNames: [host] } : { nodeId: config.nodeId, ipAddresses: [host] });
    return { caPem: ca.certPem, certPem: node.certPem, keyPem: node.keyPem };
  }
  const read = async (field: string, path: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      throw new QuorateError('invalid_config', `tls.${field}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  return { caPem: await read('ca_file', tls.caFile), certPem: await read('cert_file', tls.certFile), keyPem: await read('key_file', tls.keyFile) };
}
