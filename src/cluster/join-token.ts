/**
 * Join tokens (seed 000: "the token grants entry to the control plane. Treat as a password").
 * A token carries three things: the fingerprint of the cluster CA, so the joining node can
 * check it is talking to the right cluster before it sends anything secret (k3s and kubeadm pin
 * the CA the same way); a token id, which names the token in `join-token --list` and
 * `--revoke`; and a secret. The cluster stores only the id, a SHA-256 of the secret, the role
 * the token admits and its expiry.
 *
 * Text form: `qrt1_` + base64url of [version 1][CA SHA-256, 32][id, 8][secret, 24][CRC-32C of
 * the rest, 4]. The checksum catches a token damaged in copy and paste (or edited) before any
 * server is contacted.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { crc32c } from '../storage/crc32c.js';
import { QuorateError } from '../util/errors.js';

const prefix = 'qrt1_';
const version = 1;
const fingerprintBytes = 32;
const idBytes = 8;
const secretBytes = 24;
const checksumBytes = 4;
const bodyBytes = 1 + fingerprintBytes + idBytes + secretBytes;
/** base64url without padding: 4 characters per 3 bytes. */
const encodedChars = Math.ceil(((bodyBytes + checksumBytes) * 4) / 3);

export type JoinRole = 'server' | 'worker';

export interface JoinToken {
  /** `sha256:<hex>` of the cluster CA certificate, as certFingerprint gives it. */
  readonly caFingerprint: string;
  /** 16 hex digits. */
  readonly id: string;
  /** base64url. */
  readonly secret: string;
}

export function newJoinToken(caFingerprint: string): JoinToken {
  return { caFingerprint, id: randomBytes(idBytes).toString('hex'), secret: randomBytes(secretBytes).toString('base64url') };
}

export function formatJoinToken(token: JoinToken): string {
  const fingerprint = /^sha256:([0-9a-f]{64})$/.exec(token.caFingerprint)?.[1];
  if (fingerprint === undefined) throw new QuorateError('invalid_argument', `not a CA fingerprint: ${token.caFingerprint}`);
  const body = Buffer.concat([Buffer.of(version), Buffer.from(fingerprint, 'hex'), Buffer.from(token.id, 'hex'), Buffer.from(token.secret, 'base64url')]);
  const checksum = Buffer.alloc(checksumBytes);
  checksum.writeUInt32BE(crc32c(body));
  return prefix + Buffer.concat([body, checksum]).toString('base64url');
}

const damaged = (why: string): QuorateError =>
  new QuorateError('bad_token', `the join token is damaged (${why}); copy it again, whole, from the output of \`quorate cluster join-token\``);

export function parseJoinToken(text: string): JoinToken {
  const trimmed = text.trim();
  if (!trimmed.startsWith(prefix)) throw damaged(`it does not start with ${prefix}`);
  // Buffer's decoder skips characters outside the alphabet, reads "+" and "/" as "-" and "_"
  // and drops a partial last byte, so a changed or added character could decode to the same
  // bytes: the text itself is checked.
  const encoded = trimmed.slice(prefix.length);
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) throw damaged('it has characters that are not base64url');
  if (encoded.length !== encodedChars) throw damaged(`${encoded.length} characters instead of ${encodedChars}`);
  const bytes = Buffer.from(encoded, 'base64url');
  const body = bytes.subarray(0, bodyBytes);
  if (bytes.readUInt32BE(bodyBytes) !== crc32c(body)) throw damaged('its checksum does not match');
  if (body[0] !== version) throw damaged(`unknown version ${String(body[0])}`);
  let at = 1;
  const take = (n: number): Buffer => body.subarray(at, (at += n));
  return {
    caFingerprint: `sha256:${take(fingerprintBytes).toString('hex')}`,
    id: take(idBytes).toString('hex'),
    secret: take(secretBytes).toString('base64url'),
  };
}

/**
 * A cluster's id: the first 16 hex digits of its CA's fingerprint. The CA is what makes a
 * cluster (it signs every member), so a node that joins knows the id from its token's pin.
 */
export function clusterIdOf(caFingerprint: string): string {
  return caFingerprint.slice('sha256:'.length, 'sha256:'.length + 16);
}

/** What the cluster stores instead of a secret (join tokens and the admin token alike). */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretMatches(secret: string, hash: string): boolean {
  const actual = Buffer.from(secretHash(secret), 'hex');
  const expected = Buffer.from(hash, 'hex');
  return actual.byteLength === expected.byteLength && timingSafeEqual(actual, expected);
}
