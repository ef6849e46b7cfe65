/**
 * The admin token of a statically configured cluster (TOML `cluster_secret`, seed 002). Such a
 * cluster has no `cluster init` to hand out a random token, but every node already shares a
 * secret from which it derives the cluster CA key, so it derives the admin token the same way:
 * the founders agree on its hash without talking, and whoever holds the secret (and could
 * therefore mint a peer certificate anyway) can ask `quorate cluster admin-token --config FILE`
 * for it. A different HKDF label keeps the token independent of the CA key.
 */
import { hkdfSync } from 'node:crypto';

export function deriveAdminToken(secret: string, clusterName: string): string {
  return Buffer.from(hkdfSync('sha256', secret, clusterName, 'quorate admin token v1', 32)).toString('base64url');
}
