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

/** What a node's TLS identity depends on (a server's config, or a worker's data directory). */
export type TlsIdentityConfig = Pick<ServerConfig, 'tls' | 'nodeId' | 'clusterName' | 'advertise' | 'api'>;

export async function tlsMaterial(config: TlsIdentityConfig): Promise<TlsMaterial> {
  const tls = config.tls;
  if (tls.kind === 'secret') {
    const ca = await deriveCa(tls.secret, config.clusterName);
    const node = await issueNodeCert(ca, { nodeId: config.nodeId, ...certNames(config) });
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

/**
 * The names a self-issued certificate covers: the advertise address (peers dial it) and the API
 * address when that differs (clients dial it; a wildcard is no name). Host names go in as DNS names.
 */
export function certNames(config: Pick<ServerConfig, 'advertise' | 'api'>): { ipAddresses: string[]; dnsNames: string[] } {
  const hosts = new Set([config.advertise.host, config.api.host].filter((host) => host !== '0.0.0.0' && host !== '::'));
  return { ipAddresses: [...hosts].filter((host) => isIP(host) !== 0), dnsNames: [...hosts].filter((host) => isIP(host) === 0) };
}
