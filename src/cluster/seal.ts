/**
 * A secret sealed for the servers of one cluster: AES-256-GCM under a key derived (HKDF-SHA256)
 * from the admin token, which every server holds and arbiters and workers do not. A CA rotation
 * puts the new CA key into the replicated log this way, so every server can sign with it while
 * the log, snapshots and an arbiter's copy of them reveal nothing. Format: base64url of
 * nonce (12 bytes) || ciphertext || tag (16 bytes).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { QuorateError } from '../util/errors.js';

const nonceBytes = 12;
const tagBytes = 16;

function sealingKey(adminToken: string, clusterId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', adminToken, clusterId, 'quorate sealed for servers v1', 32));
}

export function seal(plaintext: string, adminToken: string, clusterId: string): string {
  const nonce = randomBytes(nonceBytes);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(adminToken, clusterId), nonce);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
}

/** The plaintext; throws when the token or cluster id is not the one it was sealed with, or the text is damaged. */
export function unseal(sealed: string, adminToken: string, clusterId: string): string {
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.length < nonceBytes + tagBytes) throw new QuorateError('bad_seal', 'a sealed secret is too short');
  const decipher = createDecipheriv('aes-256-gcm', sealingKey(adminToken, clusterId), bytes.subarray(0, nonceBytes));
  decipher.setAuthTag(bytes.subarray(bytes.length - tagBytes));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(nonceBytes, bytes.length - tagBytes)), decipher.final()]).toString('utf8');
  } catch {
    throw new QuorateError('bad_seal', 'a sealed secret does not open with this node\'s admin token: it was sealed by another cluster or damaged');
  }
}
