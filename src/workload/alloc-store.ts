/**
 * What an agent remembers about each allocation it ran, one file per allocation
 * (`<root>/<allocation id>/alloc.json`, beside the task's logs): the allocation, the spec it was
 * started with, the running task (to re-attach to after an agent restart) and the last status
 * it reached. A restarted agent thus neither starts a second copy of a task that still runs nor
 * starts again an allocation that already ended here.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Allocation, JobSpec } from '../state/index.js';
import type { TaskState } from './driver.js';
import type { AllocStatusReport } from './protocol.js';

export interface AllocRecord {
  readonly allocation: Allocation;
  readonly spec: JobSpec;
  readonly task: TaskState | null;
  /** The newest status this node reached for the allocation. */
  readonly report: AllocStatusReport | null;
}

export class AllocStore {
  /** The last write of each allocation's record: writes of one record go one after another (they share a temp file). */
  private readonly writes = new Map<string, Promise<void>>();

  constructor(private readonly root: string) {}

  save(record: AllocRecord): Promise<void> {
    const id = record.allocation.id;
    const write = (this.writes.get(id) ?? Promise.resolve()).catch(() => undefined).then(() => this.write(record));
    this.writes.set(id, write);
    void write.finally(() => {
      if (this.writes.get(id) === write) this.writes.delete(id);
    }).catch(() => undefined);
    return write;
  }

  private async write(record: AllocRecord): Promise<void> {
    const dir = join(this.root, record.allocation.id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, 'alloc.json');
    await writeFile(`${path}.tmp`, JSON.stringify(record), { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }

  /** Every remembered allocation; unreadable records (a crash mid-write of a new one) are skipped. */
  async load(): Promise<AllocRecord[]> {
    const names = await readdir(this.root).catch(() => []);
    const records: AllocRecord[] = [];
    for (const name of names) {
      try {
        records.push(JSON.parse(await readFile(join(this.root, name, 'alloc.json'), 'utf8')) as AllocRecord);
      } catch {
        // No record: not an allocation directory, or one whose first write did not finish.
      }
    }
    return records;
  }

  /** Drop an allocation the cluster forgot (its logs go with it). */
  async remove(id: string): Promise<void> {
    await rm(join(this.root, id), { recursive: true, force: true });
  }
}
