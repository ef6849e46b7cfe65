/**
 * `quorate cluster arbiter add <addr>` on the cluster's side (seed 003 option 2): attach an
 * arbiter process to this cluster. The arbiter has no join token: the cluster goes to it. This
 * server looks at the arbiter's certificate (and compares it with `--fingerprint` when given:
 * without a pin the first answer is trusted, as ssh does), issues it a node certificate from
 * the cluster CA, records it as a member that keeps the voters odd, and hands it the CA
 * certificate, its certificate and key, and the members to dial, over TLS verified against the
 * certificate just checked. The arbiter then asks to be added as a learner like any joining
 * node and is promoted once caught up — with two data nodes, that makes three voters.
 */
import { isIP } from 'node:net';
import { certFingerprint, issueNodeCert } from '../cluster/certs.js';
import { encodeMemberCommand } from '../state/index.js';
import { QuorateError } from '../util/errors.js';
import { getJson, postJson } from '../util/https-json.js';
import { signing, type AdmissionContext } from './admission.js';
import { parseArbiterInfo, type ArbiterEnrollment } from './arbiter-protocol.js';
import { parseHostPort } from './config.js';

const arbiterTimeoutMs = 5_000;

export interface ArbiterAddRequest {
  /** host:port the arbiter listens on (`quorate arbiter --listen`). */
  readonly address: string;
  /** sha256:… of the arbiter's certificate, as `quorate arbiter` printed it; null: trust the first answer. */
  readonly fingerprint: string | null;
}

export interface ArbiterAdded {
  readonly nodeId: string;
  readonly address: string;
  readonly fingerprint: string;
}

export async function enrollArbiter(ctx: AdmissionContext, request: ArbiterAddRequest): Promise<ArbiterAdded> {
  const secrets = await signing(ctx);
  const host = hostOf(request.address);
  if (isIP(host) === 0) throw new QuorateError('bad_request', `the arbiter address must be an IP address and port (e.g. 127.0.0.9:8090), not "${request.address}"`);
  const url = `https://${request.address}`;
  // Unverified on purpose: the certificate is what is being checked, and nothing secret is sent.
  const look = await getJson(`${url}/v1/arbiter`, { rejectUnauthorized: false }, arbiterTimeoutMs).catch((error: unknown) => {
    throw new QuorateError('unreachable', `cannot reach the arbiter at ${request.address}: ${(error as Error).message}`);
  });
  const info = parseArbiterInfo(look.body, request.address);
  const fingerprint = certFingerprint(look.serverCertPem);
  if (request.fingerprint !== null && request.fingerprint !== fingerprint) {
    throw new QuorateError('fingerprint_mismatch', `the arbiter at ${request.address} presents ${fingerprint}, not ${request.fingerprint}: another process answers there, or something is impersonating it; nothing was sent`);
  }
  const clusterId = ctx.clusterId;
  const existing = ctx.state.members.list().find((m) => m.arbiter === true && m.peerAddress === request.address);
  if (existing !== undefined && info.clusters.some((c) => c.clusterId === clusterId)) return { nodeId: existing.id, address: request.address, fingerprint };
  const nodeId = existing?.id ?? pickArbiterId(host, new Set([...ctx.state.members.list().map((m) => m.id), ...ctx.state.workload.nodes().map((n) => n.id)]));
  const cert = await issueNodeCert(secrets.ca, { nodeId, ipAddresses: [host] });
  await ctx.propose(encodeMemberCommand({ op: 'memberSet', id: nodeId, peerAddress: request.address, apiAddress: request.address, promotion: 'keep-odd', arbiter: true }));
  const active = ctx.activeIds();
  const enrollment: ArbiterEnrollment = {
    clusterId,
    clusterName: ctx.clusterName,
    nodeId,
    caCertPem: secrets.trustPem,
    nodeCertPem: cert.certPem,
    nodeKeyPem: cert.keyPem,
    members: ctx.state.members
      .list()
      .filter((m) => m.id !== nodeId && active.has(m.id))
      .map(({ id, peerAddress, apiAddress }) => ({ id, peerAddress, apiAddress })),
  };
  // Verified against the certificate checked above: the key goes to that process only.
  const answer = await postJson(`${url}/v1/arbiter/clusters`, enrollment, { ca: look.serverCertPem, checkServerIdentity: () => undefined }, arbiterTimeoutMs).catch((error: unknown) => {
    throw new QuorateError('unreachable', `the arbiter at ${request.address} did not take the cluster: ${(error as Error).message}`);
  });
  if (answer.status !== 200) {
    const message = (answer.body as { message?: unknown }).message;
    throw new QuorateError('arbiter_refused', `the arbiter at ${request.address} refused the cluster: ${typeof message === 'string' ? message : `HTTP ${answer.status}`}`);
  }
  return { nodeId, address: request.address, fingerprint };
}

/** arbiter-9 for 127.0.0.9, unless taken. */
function pickArbiterId(host: string, taken: ReadonlySet<string>): string {
  const octet = isIP(host) === 4 ? host.split('.').pop() : undefined;
  if (octet !== undefined && !taken.has(`arbiter-${octet}`)) return `arbiter-${octet}`;
  for (let k = 1; ; k++) if (!taken.has(`arbiter-${k}`)) return `arbiter-${k}`;
}

/** The address's host; a malformed address is the caller's mistake (400), not a config error. */
function hostOf(address: string): string {
  try {
    return parseHostPort(address, 'arbiter address').host;
  } catch {
    throw new QuorateError('bad_request', `the arbiter address must be an IP address and port (e.g. 127.0.0.9:8090), not "${address}"`);
  }
}
