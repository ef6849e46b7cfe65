/** Cluster lifecycle: so far the CA and node certificates the peer transport's mutual TLS uses. */
export { certFingerprint, certInfo, clusterSecretLengthMin, createCa, deriveCa, issueNodeCert } from './certs.js';
export type { CertAndKey, CertInfo, NodeCertRequest } from './certs.js';
