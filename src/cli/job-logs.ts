/**
 * `quorate job logs`: an allocation's output lives only on the node that runs it, so the
 * command picks the job's allocations (the running ones, or the one asked for), finds each
 * one's node in GET /v1/nodes and reads from that node's API. One allocation prints its text
 * as it comes; with several, whole lines are interleaved as they arrive, each prefixed with its
 * allocation id (`--json`: one {"allocation", "line"} object per line).
 */
import type { JobStatusJson, NodeViewJson } from '../api/index.js';
import type { QuorateClient } from '../client/index.js';
import { CliError, print, printJson, untilSignal } from './context.js';

export interface LogTarget {
  readonly allocation: string;
  /** host:port of the API of the node that runs it. */
  readonly apiAddress: string;
}

export interface LogPrintOptions {
  readonly stream: 'stdout' | 'stderr';
  readonly follow: boolean;
  readonly json: boolean;
}

/** A line without an end (a task printing without newlines) is cut here rather than buffered without bound. */
const lineCharsMax = 64 * 1024;

/** Which allocations to read, and from where; a CliError says what to do when there is none. */
export function logTargets(status: JobStatusJson, nodes: readonly NodeViewJson[], allocationId: string | undefined): LogTarget[] {
  const name = status.job.spec.name;
  const chosen = status.allocations.filter((a) => (allocationId === undefined ? a.status === 'running' : a.id === allocationId));
  if (chosen.length === 0) {
    throw new CliError(
      allocationId === undefined
        ? `job ${name} has no running allocation; pick one from \`quorate job status ${name}\` with --alloc ID`
        : `job ${name} has no allocation ${allocationId}; \`quorate job status ${name}\` lists them`,
    );
  }
  return chosen.map((a) => {
    const node = nodes.find((n) => n.id === a.node);
    if (node === undefined) throw new CliError(`node ${a.node}, where ${a.id} ran, is not registered any more; its logs went with it`);
    return { allocation: a.id, apiAddress: node.apiAddress };
  });
}

/** Cuts text chunks into lines; a partial line waits for its end, or for end(). */
export class LineSplitter {
  private partial = '';

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.emit(line);
    while (this.partial.length > lineCharsMax) {
      this.emit(this.partial.slice(0, lineCharsMax));
      this.partial = this.partial.slice(lineCharsMax);
    }
  }

  end(): void {
    if (this.partial !== '') this.emit(this.partial);
    this.partial = '';
  }
}

/** Prints every target's log; with `follow` until Ctrl-C. The first failure stops the others too. */
export async function printLogs(client: QuorateClient, targets: readonly LogTarget[], options: LogPrintOptions): Promise<void> {
  const stop = new AbortController();
  if (options.follow) void untilSignal().then(() => stop.abort());
  const whole = targets.length === 1 && !options.json;
  await Promise.all(
    targets.map(async (target) => {
      const lines = whole ? null : new LineSplitter((line) => (options.json ? printJson({ allocation: target.allocation, line }) : print(`${target.allocation} | ${line}\n`)));
      try {
        for await (const chunk of client.allocationLogs(target.apiAddress, target.allocation, { stream: options.stream, follow: options.follow, signal: stop.signal })) {
          if (lines === null) print(chunk);
          else lines.push(chunk);
        }
        lines?.end();
      } catch (error) {
        stop.abort();
        throw error;
      }
    }),
  );
}
