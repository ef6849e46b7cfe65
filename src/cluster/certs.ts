/**
 * The cluster's certificate authority and the node certificates the peer transport's mutual
 * TLS runs on, all ECDSA P-256 with SHA-256: keys and signatures from node:crypto, the
 * certificates encoded by ./x509.js.
 *
 * Two ways to get a CA:
 * - `createCa`: a fresh random key, kept by `cluster init` and handed to joiners.
 * - `deriveCa`: the key is derived from a shared secret and the cluster id, so every node that
 *   knows the secret holds the same CA key and can issue itself a certificate the others
 *   trust. This is how a static bootstrap (the same TOML on every node) gets mutual TLS with
 *   no step that distributes a CA. The CA certificate's content (subject, serial, validity,
 *   extensions) is fixed too, and its signature is deterministic (RFC 6979), so the certificate
 *   is byte-identical on every node and has one fingerprint.
 */
import { X509Certificate, createECDH, createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPair, hkdf, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import { QuorateError } from '../util/errors.js';
import * as x509 from './x509.js';

export interface CertAndKey {
  readonly certPem: string;
  /** PKCS #8 PEM. */
  readonly keyPem: string;
}

export interface NodeCertRequest {
  /** Becomes the certificate's common name: the identity the transport checks at hello. */
  readonly nodeId: string;
  readonly ipAddresses: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly validityDays?: number;
}

export interface CertInfo {
  readonly commonName: string | null;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCa: boolean;
  readonly ipAddresses: readonly string[];
  readonly dnsNames: readonly string[];
  readonly fingerprint: string;
}

/** Below this the secret could be guessed, and whoever guesses it can join the cluster. */
export const clusterSecretLengthMin = 16;

const dayMs = 24 * 60 * 60 * 1000;
/** Certificates start an hour in the past, so that a peer whose clock is behind accepts them. */
const clockSkewMs = 60 * 60 * 1000;
/** The order of the P-256 group: private scalars lie in [1, n - 1]. */
const p256Order = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** Off the event loop: a server issues certificates while it serves. */
const generateP256 = (): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> => promisify(generateKeyPair)('ec', { namedCurve: 'P-256' });

/** A new CA with a random key, valid for ten years. */
export async function createCa(commonName: string): Promise<CertAndKey> {
  const { publicKey, privateKey } = await generateP256();
  const spki = spkiOf(publicKey);
  const name = x509.name([['CN', commonName]]);
  const now = Date.now();
  const tbs = x509.tbsCertificate({
    serial: serialFrom(randomBytes(16)),
    issuer: name,
    subject: name,
    notBefore: new Date(now - clockSkewMs),
    notAfter: new Date(now + 3652 * dayMs),
    spki,
    extensions: caExtensions(spki),
  });
  return { certPem: certificatePem(x509.signedCertificate(tbs, sign('sha256', tbs, privateKey))), keyPem: pkcs8Pem(privateKey) };
}

/**
 * The CA every holder of `secret` derives for cluster `clusterId`: the key is HKDF-SHA256 of
 * the secret, salted with the cluster id, reduced to a P-256 scalar.
 */
export async function deriveCa(secret: string, clusterId: string): Promise<CertAndKey> {
  if (secret.length < clusterSecretLengthMin) {
    throw new QuorateError(
      'weak_secret',
      `the cluster secret has ${secret.length} characters, fewer than ${clusterSecretLengthMin}: every node derives the cluster CA key from it, so anyone who guesses it can join the cluster; use a long random string (e.g. \`openssl rand -hex 32\`)`,
    );
  }
  if (clusterId === '') throw new QuorateError('invalid_config', 'deriving the cluster CA needs a cluster id');
  const { privateRaw, privateKey } = await derivedKey(secret, clusterId);
  const spki = spkiOf(createPublicKey(privateKey));
  const name = x509.name([['CN', 'Quorate cluster CA'], ['OU', clusterId]]);
  const tbs = x509.tbsCertificate({
    serial: serialFrom(createHash('sha256').update(spki).digest()),
    issuer: name,
    subject: name,
    notBefore: new Date(Date.UTC(2020, 0, 1)),
    notAfter: new Date(Date.UTC(2120, 0, 1)),
    spki,
    extensions: caExtensions(spki),
  });
  // node:crypto signs ECDSA with a random nonce, which would give every node a CA certificate
  // with its own signature and so its own fingerprint. Signing with the RFC 6979 nonce makes
  // the certificate byte-identical on every node, so a fingerprint pins it wherever it is read.
  const signature = x509.ecdsaSigValue(ecdsaSignDeterministic(privateRaw, tbs));
  return { certPem: certificatePem(x509.signedCertificate(tbs, signature)), keyPem: pkcs8Pem(privateKey) };
}

/** A certificate for one node, for both ends of a TLS connection, signed by `ca`. */
export async function issueNodeCert(ca: CertAndKey, request: NodeCertRequest): Promise<CertAndKey> {
  const { nodeId, ipAddresses, dnsNames = [], validityDays = 365 } = request;
  if (nodeId === '') throw new QuorateError('invalid_config', 'a node certificate needs a node id');
  for (const ip of ipAddresses) if (isIP(ip) === 0) throw new QuorateError('invalid_address', `"${ip}" is not an IP address; put host names in dnsNames`);
  if (!Number.isSafeInteger(validityDays) || validityDays <= 0) throw new QuorateError('invalid_config', `validityDays must be a positive integer, got ${validityDays}`);
  const caFields = x509.readCertificate(new X509Certificate(ca.certPem).raw);
  const caKey = createPrivateKey(ca.keyPem);
  // The certificate names ECDSA with SHA-256 as its signature algorithm, so no other CA key may sign it.
  if (caKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new QuorateError('invalid_certificate', 'the CA key is not an ECDSA P-256 key, the only kind that signs node certificates');
  const { publicKey, privateKey } = await generateP256();
  const spki = spkiOf(publicKey);
  const now = Date.now();
  const tbs = x509.tbsCertificate({
    serial: serialFrom(randomBytes(16)),
    issuer: caFields.subject,
    subject: x509.name([['CN', nodeId]]),
    notBefore: new Date(now - clockSkewMs),
    notAfter: new Date(now + validityDays * dayMs),
    spki,
    extensions: [
      x509.basicConstraints(false),
      x509.keyUsage('digitalSignature'),
      x509.extendedKeyUsage('serverAuth', 'clientAuth'),
      ...(ipAddresses.length + dnsNames.length > 0 ? [x509.subjectAltName(ipAddresses, dnsNames)] : []),
      x509.subjectKeyIdentifier(x509.keyIdentifier(spki)),
      // The CA's own identifier, which chain building matches; a CA without one gets the one it would have.
      x509.authorityKeyIdentifier(x509.subjectKeyIdentifierOf(caFields) ?? x509.keyIdentifier(caFields.spki)),
    ],
  });
  return { certPem: certificatePem(x509.signedCertificate(tbs, sign('sha256', tbs, caKey))), keyPem: pkcs8Pem(privateKey) };
}

/** The certificates of a PEM bundle (a trust file may hold several CAs during a rotation), each as its own PEM. */
export function splitCertificates(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g)?.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)) ?? [];
}

/** Whether `caPem` signed `certPem` (names match and the signature verifies with the CA's key). */
export function issuedBy(certPem: string, caPem: string): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/** Whether `keyPem` is the private key of the certificate `certPem`. */
export function keyMatches(certPem: string, keyPem: string): boolean {
  try {
    return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** `sha256:<hex>` of the certificate's DER: what join tokens pin the CA by. */
export function certFingerprint(pem: string): string {
  return `sha256:${createHash('sha256').update(pemToDer(pem)).digest('hex')}`;
}

/** A promise, as it was when it loaded a parser first: callers need not change. */
export async function certInfo(pem: string): Promise<CertInfo> {
  const cert = new X509Certificate(pem);
  // The legacy object has the name's values unescaped; a value that repeats comes as an array.
  const commonName = cert.toLegacyObject().subject.CN;
  return Promise.resolve({
    commonName: (Array.isArray(commonName) ? commonName[0] : commonName) ?? null,
    issuer: cert.issuer.split('\n').join(', '),
    serialNumber: cert.serialNumber.toLowerCase(),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    isCa: cert.ca,
    ...x509.subjectAltNamesOf(x509.readCertificate(cert.raw)),
    fingerprint: certFingerprint(pem),
  });
}

function caExtensions(spki: Buffer): Buffer[] {
  return [x509.basicConstraints(true), x509.keyUsage('keyCertSign', 'cRLSign', 'digitalSignature'), x509.subjectKeyIdentifier(x509.keyIdentifier(spki))];
}

/**
 * HKDF-SHA256(secret, salt = cluster id) gives 48 bytes, reduced into [1, n - 1]: 128 bits
 * more than the group order, so the reduction's bias is negligible (FIPS 186-5, A.2.1).
 */
async function derivedKey(secret: string, clusterId: string): Promise<{ privateRaw: Buffer; privateKey: KeyObject }> {
  const okm = Buffer.from(await promisify(hkdf)('sha256', secret, clusterId, 'quorate cluster CA key v1', 48));
  const privateRaw = toBytes32((toBigInt(okm) % (p256Order - 1n)) + 1n);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(privateRaw);
  const point = ecdh.getPublicKey(); // uncompressed: 0x04 || x || y
  const jwk = { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url'), d: privateRaw.toString('base64url') };
  return { privateRaw, privateKey: createPrivateKey({ key: jwk, format: 'jwk' }) };
}

/**
 * ECDSA over P-256 with SHA-256 and the nonce of RFC 6979 (section 3.2): the same key and
 * message always give the same signature, `r || s` (x509.ecdsaSigValue encodes it for a
 * certificate). The scalar multiplication k*G is OpenSSL's (an ECDH public key is exactly
 * that); the rest is modular arithmetic on BigInts, which is not constant-time: it runs once
 * per node start, locally.
 */
export function ecdsaSignDeterministic(privateKey: Uint8Array, message: Uint8Array): Uint8Array {
  const n = p256Order;
  const d = toBigInt(privateKey);
  const e = toBigInt(createHash('sha256').update(message).digest());
  const x = toBytes32(d);
  const h1 = toBytes32(e % n);
  const hmac = (key: Buffer, ...parts: Uint8Array[]): Buffer => createHmac('sha256', key).update(Buffer.concat(parts)).digest();
  let v: Buffer = Buffer.alloc(32, 1);
  let k: Buffer = Buffer.alloc(32, 0);
  k = hmac(k, v, Uint8Array.of(0), x, h1);
  v = hmac(k, v);
  k = hmac(k, v, Uint8Array.of(1), x, h1);
  v = hmac(k, v);
  for (;;) {
    v = hmac(k, v);
    const nonce = toBigInt(v);
    if (nonce >= 1n && nonce < n) {
      const ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(v);
      const r = toBigInt(ecdh.getPublicKey().subarray(1, 33)) % n;
      const s = (modPow(nonce, n - 2n, n) * (e + r * d)) % n;
      if (r !== 0n && s !== 0n) return Buffer.concat([toBytes32(r), toBytes32(s)]);
    }
    k = hmac(k, v, Uint8Array.of(0));
    v = hmac(k, v);
  }
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let x = exponent; x > 0n; x >>= 1n) {
    if ((x & 1n) === 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

function toBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
}

function toBytes32(value: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(64, '0'), 'hex');
}

function spkiOf(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' });
}

function pkcs8Pem(privateKey: KeyObject): string {
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function certificatePem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}(?!$)/g, '$&\n')}\n-----END CERTIFICATE-----`;
}

/** 16 bytes as a positive DER integer with no leading zero byte (RFC 5280 allows up to 20). */
function serialFrom(bytes: Uint8Array): Buffer {
  const serial = Buffer.from(bytes.subarray(0, 16));
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial;
}

function pemToDer(pem: string): Buffer {
  const match = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pem);
  if (match?.[1] === undefined) throw new QuorateError('invalid_certificate', 'not a PEM certificate (no BEGIN CERTIFICATE block)');
  return Buffer.from(match[1].replace(/\s+/g, ''), 'base64');
}
