/**
 * `quorate job run|status|list|stop|logs`. run reads the job file here (TOML or JSON), so a
 * mistake is reported with the file's name and the field before anything is sent; the rest
 * are thin wrappers around the API (job-format.ts renders the answers, job-logs.ts fetches
 * logs from the nodes that run the allocations).
 */
import type { Command } from 'commander';
import type { JobStatusJson } from '../api/index.js';
import { QuorateClientError, type QuorateClient } from '../client/index.js';
import { clientFor, globalOptions, print, printJson } from './context.js';
import { formatJobList, formatJobStatus, formatSubmitted } from './job-format.js';
import { logTargets, printLogs } from './job-logs.js';

/** The job's status, or null when there is no such job. */
async function statusOrNull(client: QuorateClient, name: string): Promise<JobStatusJson | null> {
  try {
    return await client.jobStatus(name);
  } catch (error) {
    if (error instanceof QuorateClientError && error.code === 'not_found') return null;
    throw error;
  }
}

async function list(command: Command): Promise<void> {
  const global = globalOptions(command);
  const jobs = await (await clientFor(global)).listJobs();
  if (global.json === true) printJson(jobs);
  else print(formatJobList(jobs));
}

function runCommand(job: Command): void {
  job
    .command('run')
    .description('submit a job file (TOML, or JSON for .json); a changed job rolls out one allocation at a time')
    .argument('<file>', 'the job file')
    .action(async (file: string, _options: object, command: Command) => {
      const global = globalOptions(command);
      const { loadJobSpec } = await import('../workload/job-spec.js');
      const spec = await loadJobSpec(file);
      const client = await clientFor(global);
      // The server keeps an identical spec's version: the version before tells "unchanged" apart.
      const before = (await statusOrNull(client, spec.name))?.job ?? null;
      const { version } = await client.runJob(spec);
      if (global.json === true) printJson({ name: spec.name, version, previousVersion: before?.version ?? null });
      else print(formatSubmitted(spec.name, before, version, spec.count));
    });
}

function statusCommand(job: Command): void {
  job
    .command('status')
    .description('one job: its allocations (node, version, status, restarts, ports) and the copies that cannot be placed; without a name, every job')
    .argument('[name]', 'the job name')
    .action(async (name: string | undefined, _options: object, command: Command) => {
      if (name === undefined) {
        await list(command);
        return;
      }
      const global = globalOptions(command);
      const status = await (await clientFor(global)).jobStatus(name);
      if (global.json === true) printJson(status);
      else print(formatJobStatus(status));
    });
}

function stopCommand(job: Command): void {
  job
    .command('stop')
    .description('stop every allocation of the job (it stays listed as stopped; `job run` starts it again)')
    .argument('<name>', 'the job name')
    .action(async (name: string, _options: object, command: Command) => {
      const global = globalOptions(command);
      await (await clientFor(global)).stopJob(name);
      if (global.json === true) printJson({ name, stopped: true });
      else print(`job ${name} stopping: every allocation is told to stop\n`);
    });
}

function logsCommand(job: Command): void {
  job
    .command('logs')
    .description("a job's output, from the nodes that run it: every running allocation, or --alloc ID")
    .argument('<name>', 'the job name')
    .option('-f, --follow', 'keep printing new output until Ctrl-C')
    .option('--stderr', 'standard error instead of standard output')
    .option('--alloc <id>', 'this allocation only (also an ended one; see `job status`)')
    .action(async (name: string, options: { follow?: boolean; stderr?: boolean; alloc?: string }, command: Command) => {
      const global = globalOptions(command);
      const client = await clientFor(global);
      const [status, nodes] = await Promise.all([client.jobStatus(name), client.nodes()]);
      await printLogs(client, logTargets(status, nodes, options.alloc), { stream: options.stderr === true ? 'stderr' : 'stdout', follow: options.follow === true, json: global.json === true });
    });
}

export function addJobCommands(program: Command): void {
  const job = program.command('job').description('run, inspect and stop jobs');
  runCommand(job);
  statusCommand(job);
  job
    .command('list')
    .description('every job: version, running copies, state')
    .action((_options: object, command: Command) => list(command));
  stopCommand(job);
  logsCommand(job);
}
