/**
 * The suite's watchers: each streams every change from the first revision over
 * GET /v1/watch?prefix=&from=N, from the clients' address, starting on its own node. When a
 * stream fails or goes quiet for longer than two progress intervals, it resumes on the next
 * node from the revision after the last event or progress line it saw, as a user's watcher
 * does. checkWatches then holds them to "watches saw every committed change, in order": one
 * event per revision with no gap and no repeat, the same changes on every watcher, every
 * acknowledged write among them, and nothing that was never written.
 */
import { adminToken } from '../e2e/harness.js';
import { request, type ClientRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosOperation } from './clients.js';
import { clientAddress } from './network.js';

export interface WatchedChange {
  readonly revision: number;
  readonly key: string;
  /** null for a delete. */
  readonly value: string | null;
}

/** The server sends a progress line every 5 s; twice that without a line means a dead stream. */
const silenceMs = 10_000;
const retryMs = 200;

export class ChaosWatcher {
  readonly changes: WatchedChange[] = [];
  /** Anything the streams said that a correct server never says. */
  readonly problems: string[] = [];
  private next = 1;
  private stopped = false;
  private current: ClientRequest | null = null;
  private readonly done: Promise<void>;

  constructor(
    private readonly hosts: readonly string[],
    private readonly port: number,
    first: number,
  ) {
    this.done = this.run(first);
  }

  /** The revision up to which this watcher has seen everything. */
  get seen(): number {
    return this.next - 1;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.destroy();
    await this.done;
  }

  private async run(first: number): Promise<void> {
    for (let node = first; !this.stopped; node = (node + 1) % this.hosts.length) {
      await this.stream(this.hosts[node] ?? '');
      await sleep(retryMs);
    }
  }

  /** One stream until it fails, goes quiet or the watcher stops. */
  private stream(host: string): Promise<void> {
    return new Promise((resolve) => {
      const req = request({ host, port: this.port, path: `/v1/watch?prefix=&from=${this.next}`, localAddress: clientAddress, agent: false, headers: { authorization: `Bearer ${adminToken}` } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          res.on('end', resolve);
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) this.receive(line, host);
        });
        res.on('end', resolve);
        res.on('error', resolve);
      });
      this.current = req;
      req.setTimeout(silenceMs, () => req.destroy(new Error('silent')));
      req.on('error', () => resolve());
      req.end();
    });
  }

  private receive(line: string, host: string): void {
    const json = JSON.parse(line) as { type: string; revision: number; key?: string; value?: string };
    if (json.type === 'progress') {
      // Everything up to the node's revision has been sent; a lagging node's is below ours.
      this.next = Math.max(this.next, json.revision + 1);
      return;
    }
    if (json.revision < this.next) {
      this.problems.push(`${host} sent revision ${json.revision} again (or out of order) after ${this.next - 1}`);
      return;
    }
    this.changes.push({ revision: json.revision, key: json.key ?? '', value: json.type === 'delete' ? null : (json.value ?? '') });
    this.next = json.revision + 1;
  }
}

/**
 * Every watcher saw the same changes: one per revision from the first write up to the final
 * revision (each client operation writes one key, so there is no revision without a change),
 * all acknowledged writes included, and only values some client tried to write.
 */
export function checkWatches(watchers: readonly ChaosWatcher[], history: readonly ChaosOperation[], finalRevision: number): string[] {
  const problems = watchers.flatMap((w, i) => w.problems.map((p) => `watcher ${i}: ${p}`));
  const reference = watchers[0]?.changes ?? [];
  const attempted = new Set<string>();
  const acknowledged: string[] = [];
  for (const op of history) {
    if (op.input.kind === 'read') continue;
    attempted.add(`${op.input.key}=${op.input.value}`);
    const confirmed = op.output !== undefined && (op.output.kind === 'write' || (op.output.kind === 'cas' && op.output.ok));
    if (confirmed) acknowledged.push(`${op.input.key}=${op.input.value}`);
  }
  watchers.forEach((w, i) => {
    const gap = w.changes.findIndex((c, j) => c.revision !== (j === 0 ? 2 : (w.changes[j - 1]?.revision ?? 0) + 1));
    if (gap !== -1) problems.push(`watcher ${i}: revision ${w.changes[gap]?.revision ?? '?'} follows ${w.changes[gap - 1]?.revision ?? 'nothing'}: events are missing`);
    const last = w.changes.at(-1)?.revision ?? 1;
    if (last !== finalRevision) problems.push(`watcher ${i}: saw changes up to revision ${last}, the cluster is at ${finalRevision}`);
    const differs = w.changes.findIndex((c, j) => JSON.stringify(c) !== JSON.stringify(reference[j]));
    if (differs !== -1) problems.push(`watcher ${i} disagrees with watcher 0 at revision ${w.changes[differs]?.revision ?? '?'}`);
  });
  const watched = new Set(reference.map((c) => `${c.key}=${c.value ?? ''}`));
  const lost = acknowledged.filter((write) => !watched.has(write));
  if (lost.length > 0) problems.push(`${lost.length} acknowledged writes never reached the watchers, e.g. ${lost.slice(0, 3).join(', ')}`);
  const invented = [...watched].filter((change) => !attempted.has(change));
  if (invented.length > 0) problems.push(`watchers saw values nobody wrote: ${invented.slice(0, 3).join(', ')}`);
  return problems;
}
