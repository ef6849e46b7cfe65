/**
 * Plain-text rendering of the `quorate job` commands, as pure functions of the API's answers:
 *
 *   NAME  VERSION  RUNNING  STATUS              (job list)
 *   web   2        3/3      running
 *
 *   job web  version 2  count 3                   (job status web)
 *   ID              NODE    VERSION  DESIRED  STATUS   RESTARTS  PORTS       MESSAGE
 *   web.0.1a2b3c4d  node-1  2        run      running  0         http=20001
 *   blocked: copy 2: <why no node fits>
 */
import type { JobStatusJson, JobSummaryJson } from '../api/index.js';
import type { Allocation, Job } from '../state/index.js';
import { formatTable } from './table.js';

/** What a job's copies are doing, in one word. */
function jobState(job: JobSummaryJson): string {
  if (job.stopped) return 'stopped';
  if (job.allocations.running >= job.count) return 'running';
  // Placed copies that have not started yet: an update or a first rollout under way.
  if (job.allocations.pending > 0) return 'starting';
  return 'degraded';
}

export function formatJobList(jobs: readonly JobSummaryJson[]): string {
  if (jobs.length === 0) return 'no jobs; submit one with `quorate job run FILE`\n';
  return formatTable([['NAME', 'VERSION', 'RUNNING', 'STATUS'], ...jobs.map((job) => [job.name, String(job.version), `${job.allocations.running}/${job.count}`, jobState(job)])]);
}

function ports(allocation: Allocation): string {
  const entries = Object.entries(allocation.ports);
  return entries.length === 0 ? '-' : entries.map(([name, port]) => `${name}=${port}`).join(',');
}

export function formatJobStatus(status: JobStatusJson): string {
  const { job } = status;
  const header = `job ${job.spec.name}  version ${job.version}  count ${job.spec.count}${job.stopped ? '  (stopped)' : ''}\n`;
  const allocations =
    status.allocations.length === 0
      ? 'no allocations\n'
      : formatTable([
          ['ID', 'NODE', 'VERSION', 'DESIRED', 'STATUS', 'RESTARTS', 'PORTS', 'MESSAGE'],
          ...status.allocations.map((a) => [a.id, a.node, String(a.version), a.desired, a.status, String(a.restarts), ports(a), a.message]),
        ]);
  const blocked = status.blocked.map((b) => `blocked: copy ${b.index}: ${b.reason}\n`).join('');
  return header + allocations + blocked;
}

/**
 * The line `job run` prints. The server keeps the version of an identical spec, so comparing
 * with the version before the submission tells an update from a resubmission; a stopped job
 * submitted again starts at the same version.
 */
export function formatSubmitted(name: string, before: Job | null, version: number, count: number): string {
  if (before === null) return `job ${name} submitted: version ${version} (placing ${count} ${count === 1 ? 'allocation' : 'allocations'})\n`;
  if (before.stopped) return `job ${name} submitted: version ${version} (starting again)\n`;
  if (before.version !== version) return `job ${name} submitted: version ${version} (rolling out one allocation at a time)\n`;
  return `job ${name} unchanged (version ${version})\n`;
}
