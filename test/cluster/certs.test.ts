/**
 * The cluster CA and node certificates. Two nodes that derive the CA from the same secret get
 * byte-identical CA certificates (deterministic key and RFC 6979 signature, checked against
 * the RFC's own test vector), and certificates each issues for itself pass a real mutual TLS
 * handshake on loopback with the other; a CA derived from another secret (or cluster id) is
 * refused; a short secret is refused with the reason; fingerprints are sha256 of the DER and
 * stable, and a derived CA's is pinned to the value earlier versions derived; random CAs and
 * node certificates carry the fields the transport relies on, and only a P-256 CA key signs them.
 */
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import * as tls from 'node:tls';
import { test } from 'node:test';
import { certFingerprint, certInfo, createCa, deriveCa, ecdsaSignDeterministic, issueNodeCert, type CertAndKey } from '../../src/cluster/certs.js';
import { isQuorateError } from '../../src/util/errors.js';

const secret = 'correct horse battery staple 42';

interface Side {
  readonly ca: CertAndKey;
  readonly node: CertAndKey;
}

/** A mutual TLS handshake on loopback; resolves with the CN each side saw, or the error. */
async function handshake(server: Side, client: Side): Promise<{ serverSaw: unknown; clientSaw: unknown } | Error> {
  const listener = tls.createServer({ key: server.node.keyPem, cert: server.node.certPem, ca: server.ca.certPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' });
  const serverSaw = new Promise<unknown>((resolve) => {
    listener.on('secureConnection', (socket) => {
      resolve(socket.getPeerCertificate().subject.CN);
      socket.end();
    });
    listener.on('tlsClientError', () => resolve(null));
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const address = listener.address();
  assert.ok(typeof address === 'object' && address !== null);
  try {
    const clientSaw = await new Promise<unknown>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: address.port, key: client.node.keyPem, cert: client.node.certPem, ca: client.ca.certPem, minVersion: 'TLSv1.3' });
      socket.on('secureConnect', () => resolve(socket.getPeerCertificate().subject.CN));
      socket.on('error', reject);
      socket.on('close', () => socket.destroy());
    });
    return { serverSaw: await serverSaw, clientSaw };
  } catch (error) {
    return error as Error;
  } finally {
    listener.close();
  }
}

async function nodeSide(ca: CertAndKey, nodeId: string): Promise<Side> {
  return { ca, node: await issueNodeCert(ca, { nodeId, ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] }) };
}

test('two derivations of one secret give one CA whose certificates trust each other', async () => {
  const [ca1, ca2] = [await deriveCa(secret, 'prod'), await deriveCa(secret, 'prod')];
  assert.equal(ca1.certPem, ca2.certPem, 'byte-identical CA certificates');
  assert.equal(ca1.keyPem, ca2.keyPem);
  assert.equal(certFingerprint(ca1.certPem), certFingerprint(ca2.certPem));
  const result = await handshake(await nodeSide(ca1, 'node-1'), await nodeSide(ca2, 'node-2'));
  assert.deepEqual(result, { serverSaw: 'node-2', clientSaw: 'node-1' });
  const info = await certInfo(ca1.certPem);
  assert.equal(info.isCa, true);
  assert.deepEqual([info.notBefore.toISOString(), info.notAfter.toISOString()], ['2020-01-01T00:00:00.000Z', '2120-01-01T00:00:00.000Z']);
});

test('a derived CA is the one earlier versions derived', async () => {
  // Nodes of a cluster derive the CA each on its own, and join tokens and --ca-pin pin its
  // fingerprint: the certificate must stay byte-identical across versions and nodes, or a node
  // on a new version would not trust its peers and existing pins would stop matching.
  const ca = await deriveCa(secret, 'quorate');
  assert.equal(certFingerprint(ca.certPem), 'sha256:3bd4ba73eac79f555ad5a45145065f9aeddee118f97b2b3e996d0923ef6e943e');
});

test('a CA derived from another secret or cluster id is refused', async () => {
  const ours = await nodeSide(await deriveCa(secret, 'prod'), 'node-1');
  for (const theirs of [await deriveCa('another secret of enough length', 'prod'), await deriveCa(secret, 'staging')]) {
    assert.notEqual(certFingerprint(theirs.certPem), certFingerprint(ours.ca.certPem));
    const asClient = await handshake(ours, await nodeSide(theirs, 'intruder'));
    assert.ok(asClient instanceof Error, 'a client with a foreign certificate is refused');
    const asServer = await handshake(await nodeSide(theirs, 'intruder'), ours);
    assert.ok(asServer instanceof Error, 'a server with a foreign certificate is refused');
  }
});

test('a short secret is refused, saying why', async () => {
  await assert.rejects(deriveCa('too short', 'prod'), (e) => isQuorateError(e, 'weak_secret') && e.message.includes('fewer than 16') && e.message.includes('join the cluster'));
  await assert.rejects(deriveCa(secret, ''), (e) => isQuorateError(e, 'invalid_config'));
});

test('fingerprints are the sha256 of the DER, stable across calls and PEM formatting', async () => {
  const ca = await createCa('Fingerprint CA');
  const fingerprint = certFingerprint(ca.certPem);
  assert.match(fingerprint, /^sha256:[0-9a-f]{64}$/);
  assert.equal(certFingerprint(ca.certPem.replace(/\n/g, '\r\n')), fingerprint);
  assert.equal(fingerprint.slice(7), new X509Certificate(ca.certPem).fingerprint256.replace(/:/g, '').toLowerCase());
  assert.equal((await certInfo(ca.certPem)).fingerprint, fingerprint);
  assert.throws(() => certFingerprint('not a pem'), (e) => isQuorateError(e, 'invalid_certificate'));
});

test('a random CA issues node certificates for server and client use', async () => {
  const [ca, other] = [await createCa('Quorate test CA'), await createCa('Quorate test CA')];
  assert.notEqual(ca.certPem, other.certPem, 'random keys');
  const node = await issueNodeCert(ca, { nodeId: 'n7', ipAddresses: ['10.0.0.7', '::1'], dnsNames: ['n7.example'], validityDays: 30 });
  const info = await certInfo(node.certPem);
  assert.equal(info.commonName, 'n7');
  assert.equal(info.isCa, false);
  assert.deepEqual(info.ipAddresses, ['10.0.0.7', '::1']);
  assert.deepEqual(info.dnsNames, ['n7.example']);
  const days = (info.notAfter.getTime() - Date.now()) / 86_400_000;
  assert.ok(days > 29 && days <= 30, `${days} days`);
  const x509 = new X509Certificate(node.certPem);
  assert.ok(x509.checkIssued(new X509Certificate(ca.certPem)) && x509.verify(new X509Certificate(ca.certPem).publicKey));
  assert.deepEqual(x509.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'], 'serverAuth and clientAuth');
  assert.deepEqual(await handshake(await nodeSide(ca, 'a'), await nodeSide(ca, 'b')), { serverSaw: 'b', clientSaw: 'a' });
  await assert.rejects(issueNodeCert(ca, { nodeId: 'n8', ipAddresses: ['n8.example'] }), (e) => isQuorateError(e, 'invalid_address'));
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await assert.rejects(issueNodeCert({ certPem: ca.certPem, keyPem: p384 }, { nodeId: 'n9', ipAddresses: [] }), (e) => isQuorateError(e, 'invalid_certificate'));
});

test('deterministic ECDSA matches RFC 6979 (A.2.5, P-256 with SHA-256, "sample")', () => {
  const key = Buffer.from('C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721', 'hex');
  const signature = Buffer.from(ecdsaSignDeterministic(key, Buffer.from('sample'))).toString('hex').toUpperCase();
  assert.equal(
    signature,
    'EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716' + 'F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8',
  );
});
