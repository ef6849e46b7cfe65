/**
 * The job the fencing partition tests run (`node recording-job.js`): each copy appends its life
 * to the file named by $RECORD_FILE, one line per event (job-records.ts reads them):
 *
 *   start <job> <allocation> <node address> <pid> <ms>   when it starts
 *   tick <allocation> <pid> <ms>                          every `tickMs` while it runs
 *   stop <allocation> <pid> <ms>                          on SIGTERM, just before it exits
 *
 * (<ms> is Date.now(): every copy runs on this machine, so one clock.) A copy killed with
 * SIGKILL records no stop; its life is taken to end one tick after its last one. Lines are
 * single small appends (O_APPEND), so copies can share the file. Run by the test runner (which
 * takes every file under test/ for a test file) it does nothing.
 */
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const tickMs = 50;

const file = process.env.RECORD_FILE;
const allocation = process.env.QUORATE_ALLOC_ID;
const invoked = process.argv[1] === fileURLToPath(import.meta.url) && process.env.NODE_TEST_CONTEXT === undefined;

if (invoked && file !== undefined && allocation !== undefined) {
  const record = (line: string): void => appendFileSync(file, `${line} ${process.pid} ${Date.now()}\n`);
  record(`start ${process.env.QUORATE_JOB ?? '?'} ${allocation} ${process.env.QUORATE_NODE_ADDRESS ?? '?'}`);
  setInterval(() => record(`tick ${allocation}`), tickMs);
  process.on('SIGTERM', () => {
    record(`stop ${allocation}`);
    process.exit(0);
  });
}
