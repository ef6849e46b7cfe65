/**
 * What a cluster and an arbiter process say to each other before the arbiter is a member
 * (arbiter-host.ts serves it, arbiter-enrollment.ts asks), over HTTPS on the arbiter's one
 * listening address, authenticated by the fingerprint of the arbiter's own certificate:
 *
 *   GET  /v1/arbiter            who the arbiter is and the clusters it serves (ArbiterInfo)
 *   POST /v1/arbiter/clusters   serve one more cluster (ArbiterEnrollment): its CA, the node
 *                               certificate issued to the arbiter, and the members to dial
 */
import { z } from 'zod';
import { QuorateError } from '../util/errors.js';

export interface ServedCluster {
  readonly clusterId: string;
  readonly clusterName: string;
  readonly nodeId: string;
  readonly role: string;
  readonly leader: string | null;
  readonly term: number;
}

export interface ArbiterInfo {
  readonly arbiter: true;
  readonly clusters: readonly ServedCluster[];
}

const memberSchema = z.object({ id: z.string().min(1).max(64), peerAddress: z.string().min(1).max(300), apiAddress: z.string().min(1).max(300) }).strict();

const enrollmentSchema = z
  .object({
    clusterId: z.string().regex(/^[0-9a-f]{16}$/, 'a cluster id is 16 hex digits'),
    clusterName: z.string().min(1).max(100),
    nodeId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "1-64 letters, digits, '.', '_' or '-'"),
    caCertPem: z.string().min(1).max(16_384),
    nodeCertPem: z.string().min(1).max(16_384),
    nodeKeyPem: z.string().min(1).max(16_384),
    members: z.array(memberSchema).min(1).max(100),
  })
  .strict();

export type ArbiterEnrollment = z.infer<typeof enrollmentSchema>;

export function parseEnrollment(body: unknown): ArbiterEnrollment {
  const parsed = enrollmentSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new QuorateError('bad_request', `arbiter enrollment: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

export function parseArbiterInfo(body: unknown, address: string): ArbiterInfo {
  const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (record.arbiter !== true || !Array.isArray(record.clusters)) throw new QuorateError('bad_response', `${address} is not a Quorate arbiter (start one there with \`quorate arbiter --listen ${address}\`)`);
  return body as ArbiterInfo;
}
