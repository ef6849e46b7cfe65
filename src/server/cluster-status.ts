/**
 * Seed 000's `cluster status`, answered by any node: it asks every member for its own report
 * over the peer transport (a member's applied index, role and clock are only known to that
 * member), judges the quorum from who answered, and adds the warnings an operator must see.
 * A member that does not answer within the report timeout is shown as unreachable, so the
 * command answers quickly even when the cluster has lost its quorum.
 */
import { freemem, totalmem } from 'node:os';
import { z } from 'zod';
import { QuorateError } from '../util/errors.js';
import { version } from '../util/version.js';
import type { SnapshotProgress } from '../transport/index.js';
import type { NodeTlsInfo } from './node-tls.js';
import type { NodeStatus } from './service.js';

/** What each node says about itself (peer RPC `node.report`). */
export interface NodeReport {
  readonly id: string;
  readonly role: NodeStatus['role'];
  readonly term: number;
  readonly leader: string | null;
  readonly appliedIndex: number;
  readonly commitIndex: number;
  readonly version: string;
  readonly uptimeMs: number;
  readonly freeMemoryBytes: number;
  readonly totalMemoryBytes: number;
  /** The node's wall clock when it answered (ms since the epoch), for the clock offset. */
  readonly clockMs: number;
  /** When the node's certificate expires (ISO 8601). */
  readonly certificateNotAfter: string;
  /** The trusted CA that signed the node's certificate (null: none of them; absent from older nodes). */
  readonly certificateIssuer?: string | null | undefined;
  /** Every CA the node trusts (two during a CA rotation). */
  readonly trustedCas?: readonly string[] | undefined;
  /** The earliest expiry among the CAs it trusts (ISO 8601). */
  readonly caNotAfter?: string | undefined;
  /** The node serves its API over plain HTTP (`--insecure-api`). */
  readonly insecureApi?: boolean | undefined;
  /** A snapshot on its way to this node (a joining learner), for `cluster join`'s progress; absent from older nodes. */
  readonly snapshotReceiving?: SnapshotProgress | undefined;
}

export interface MemberView {
  readonly id: string;
  readonly address: string;
  readonly apiAddress: string;
  readonly voter: boolean;
  readonly arbiter: boolean;
  /** ready: answered and applied within laggingEntriesMax of the best; lagging; unreachable. */
  readonly state: 'ready' | 'lagging' | 'unreachable';
  readonly report: NodeReport | null;
  /** The member's clock minus the answering node's, corrected by half the round trip. */
  readonly clockOffsetMs: number | null;
  /** Milliseconds since the answering node last heard from this member over the peer connection (0 for itself). */
  readonly lastContactMs: number | null;
  /** Why the report is missing, when it is. */
  readonly error: string | null;
}

export interface ClusterStatus {
  /** The node that gathered this view. */
  readonly observer: string;
  readonly leader: string | null;
  readonly term: number;
  readonly voters: number;
  readonly quorum: { readonly ok: boolean; readonly required: number; readonly reachable: number };
  /** Milliseconds since this node last heard from the leader (0 on the leader while it holds a quorum). */
  readonly lastUpdateMs: number | null;
  readonly members: readonly MemberView[];
  readonly warnings: readonly string[];
}

/** Seed 000: "If applied diverges a lot (hundreds), there is a network or disk problem". */
export const laggingEntriesMax = 100;
export const clockOffsetWarnMs = 500;
export const reportTimeoutMs = 1_000;
/** `cluster status` warns about any certificate expiring within this many days. */
export const certificateWarnDays = 30;
const dayMs = 24 * 60 * 60 * 1000;

export interface StatusSources {
  readonly self: NodeStatus;
  readonly report: () => NodeReport;
  /** Asks a member for its report; rejects when it cannot be reached in time. */
  readonly ask: (id: string) => Promise<NodeReport>;
  /** Warnings about where the voters sit and whether lost nodes can be fenced (topology.ts). */
  readonly topology: (voters: readonly string[]) => readonly string[];
}

const startedAt = Date.now();

const reportSchema = z.object({
  id: z.string(),
  role: z.enum(['leader', 'follower', 'candidate', 'preCandidate', 'learner']),
  term: z.number(),
  leader: z.string().nullable(),
  appliedIndex: z.number(),
  commitIndex: z.number(),
  version: z.string(),
  uptimeMs: z.number(),
  freeMemoryBytes: z.number(),
  totalMemoryBytes: z.number(),
  clockMs: z.number(),
  certificateNotAfter: z.string(),
  certificateIssuer: z.string().nullable().optional(),
  trustedCas: z.array(z.string()).max(8).optional(),
  caNotAfter: z.string().optional(),
  insecureApi: z.boolean().optional(),
  snapshotReceiving: z.object({ receivedBytes: z.number(), totalBytes: z.number() }).optional(),
});

/** A member's answer to `node.report`, checked: a newer or broken peer must not break status. */
export function parseNodeReport(answer: unknown, from: string): NodeReport {
  const parsed = reportSchema.safeParse(answer);
  if (!parsed.success) throw new QuorateError('bad_response', `${from} answered node.report with a malformed report`);
  return parsed.data;
}

export function localReport(status: NodeStatus, tls: NodeTlsInfo, insecureApi: boolean, snapshotReceiving: SnapshotProgress | null): NodeReport {
  return {
    id: status.id,
    role: status.role,
    term: status.term,
    leader: status.leader,
    appliedIndex: status.appliedIndex,
    commitIndex: status.commitIndex,
    version,
    uptimeMs: Date.now() - startedAt,
    freeMemoryBytes: freemem(),
    totalMemoryBytes: totalmem(),
    clockMs: Date.now(),
    ...tls,
    insecureApi,
    ...(snapshotReceiving === null ? {} : { snapshotReceiving }),
  };
}

export async function gatherClusterStatus(sources: StatusSources): Promise<ClusterStatus> {
  const { self } = sources;
  const answers = await Promise.all(
    self.members.map(async (member) => {
      if (member.id === self.id) return { report: sources.report(), clockOffsetMs: 0, error: null };
      const sentAt = Date.now();
      try {
        const report = await sources.ask(member.id);
        const receivedAt = Date.now();
        return { report, clockOffsetMs: report.clockMs - (sentAt + receivedAt) / 2, error: null };
      } catch (error) {
        return { report: null, clockOffsetMs: null, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  const bestApplied = Math.max(...answers.map((a) => a.report?.appliedIndex ?? 0));
  const members = self.members.map((member, i): MemberView => {
    const answer = answers[i] ?? { report: null, clockOffsetMs: null, error: 'no answer' };
    const report = answer.report;
    const state = report === null ? 'unreachable' : bestApplied - report.appliedIndex > laggingEntriesMax ? 'lagging' : 'ready';
    return {
      id: member.id,
      address: member.peerAddress,
      apiAddress: member.apiAddress,
      voter: member.voter,
      arbiter: member.arbiter,
      state,
      report,
      clockOffsetMs: answer.clockOffsetMs,
      lastContactMs: member.lastContactMs,
      error: answer.error,
    };
  });
  const voters = members.filter((m) => m.voter);
  const required = Math.floor(voters.length / 2) + 1;
  const reachable = voters.filter((m) => m.report !== null).length;
  const leaderContact = self.leader === null ? null : self.leader === self.id ? 0 : (self.members.find((m) => m.id === self.leader)?.lastContactMs ?? null);
  const status: Omit<ClusterStatus, 'warnings'> = {
    observer: self.id,
    leader: self.leader,
    term: self.term,
    voters: voters.length,
    quorum: { ok: self.leader !== null && reachable >= required, required, reachable },
    lastUpdateMs: leaderContact,
    members,
  };
  return { ...status, warnings: [...warnings(status), ...sources.topology(voters.map((v) => v.id))] };
}

function warnings(status: Omit<ClusterStatus, 'warnings'>): string[] {
  const out: string[] = [];
  const now = Date.now();
  if (!status.quorum.ok) {
    out.push(
      status.leader === null
        ? `no quorum: no leader is known; ${status.quorum.reachable} of ${status.voters} voters answered and ${status.quorum.required} are required. Writes are refused until a majority is back`
        : `no quorum: ${status.quorum.reachable} of ${status.voters} voters answered and ${status.quorum.required} are required. Writes are refused until a majority is back`,
    );
  }
  if (status.voters === 2) out.push('2 voters: no fault tolerance (losing either one stops writes); add a third server');
  else if (status.voters > 2 && status.voters % 2 === 0) out.push(`${status.voters} voters: an even number adds cost, not fault tolerance; add or remove one server`);
  for (const m of status.members) {
    if (m.state === 'unreachable') out.push(`${m.id} (${m.address}) is unreachable: ${m.error ?? 'no answer'}`);
    if (m.state === 'lagging') out.push(`${m.id} lags by more than ${laggingEntriesMax} entries (applied=${m.report?.appliedIndex ?? 0}): check its disk and network`);
    if (m.report !== null) out.push(...certificateWarnings(m.id, m.report, now));
    if (m.clockOffsetMs !== null && Math.abs(m.clockOffsetMs) > clockOffsetWarnMs) {
      out.push(`${m.id}'s clock is ${(m.clockOffsetMs / 1000).toFixed(1)} s off this node's; sync clocks with chrony or ntpd (safety does not depend on clocks, but logs and certificates do)`);
    }
  }
  return out;
}

/** Seed 000's words for what an operator must act on: certificates near expiry, a plain-HTTP API. */
function certificateWarnings(id: string, report: NodeReport, now: number): string[] {
  const out: string[] = [];
  const days = (iso: string): number => (Date.parse(iso) - now) / dayMs;
  const left = days(report.certificateNotAfter);
  if (left < certificateWarnDays) {
    out.push(
      left <= 0
        ? `${id}'s certificate expired at ${report.certificateNotAfter}: its peers refuse it; give it a new one (it renews itself when it holds the CA key)`
        : `${id}'s certificate expires in ${Math.floor(left)} days (${report.certificateNotAfter}) and has not been renewed; a server renews its own 30 days ahead, other nodes need new certificate files`,
    );
  }
  if (report.caNotAfter !== undefined && days(report.caNotAfter) < certificateWarnDays) {
    out.push(`a CA ${id} trusts expires at ${report.caNotAfter}: rotate the CA (\`quorate cluster ca rotate\`) before then`);
  }
  if (report.insecureApi === true) out.push(`${id} serves its API over plain HTTP (--insecure-api): tokens cross its loopback interface unencrypted; drop the flag to serve HTTPS`);
  return out;
}
