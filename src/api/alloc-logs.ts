/**
 * `GET /v1/allocations/{id}/logs?stream=stdout|stderr&offset=N&follow=true` (admin): an
 * allocation's output, served by the node that runs it (servers on their API, agents on their
 * own small HTTPS listener). Plain text; `x-log-offset` says where in the file the text starts,
 * so a client can resume. Without `offset` it is the last 64 KiB. With `follow` the response
 * stays open and carries what the task writes next (after a rotation, from the start of the
 * new file) until the client goes away or the allocation's directory is removed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { logPath, logStreams } from '../workload/index.js';
import { ApiError } from './errors.js';
import { pathSegmentText, type Query } from './request.js';

const tailBytes = 64 * 1024;
const chunkBytes = 256 * 1024;
const followPollMs = 250;

/** Allocation ids as the scheduler makes them; nothing else reaches the file system. */
function allocationId(text: string): string {
  const id = pathSegmentText(text, 'the allocation id');
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(id)) throw new ApiError('bad_request', `"${id}" is not an allocation id (see \`quorate job status <job>\`)`);
  return id;
}

export async function serveAllocationLogs(request: IncomingMessage, response: ServerResponse, root: string | null, idText: string, query: Query): Promise<void> {
  query.allowOnly(['stream', 'offset', 'follow']);
  const id = allocationId(idText);
  const stream = query.text('stream') ?? 'stdout';
  if (!(logStreams as readonly string[]).includes(stream)) throw new ApiError('bad_request', `stream must be stdout or stderr, not "${stream}"`);
  if (root === null) throw new ApiError('not_found', 'this node runs no jobs (run_jobs = false)');
  const path = logPath(root, id, stream as (typeof logStreams)[number]);
  const size = await stat(path).then(
    (s) => s.size,
    () => null,
  );
  if (size === null) throw new ApiError('not_found', `allocation ${id} has no ${stream} log on this node (it never ran here, or it was cleaned up)`);
  const offsetAsked = query.count('offset');
  let position = offsetAsked === undefined ? Math.max(0, size - tailBytes) : Math.min(offsetAsked, size);
  const follow = query.flag('follow');
  response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-log-offset': String(position), 'cache-control': 'no-store' });
  // A follower of an empty log must learn at once that the stream is open.
  response.flushHeaders();
  const client = { gone: false };
  request.once('close', () => (client.gone = true));
  for (;;) {
    const current = await stat(path).then(
      (s) => s.size,
      () => null,
    );
    if (current === null) break;
    // Copy-and-truncate rotation emptied the file: go on from its new start.
    if (current < position) position = 0;
    position += await copyRange(path, position, current, response);
    if (!follow || client.gone) break;
    await sleep(followPollMs);
  }
  response.end();
}

/** Write bytes [from, to) of the file; returns how many were written. */
async function copyRange(path: string, from: number, to: number, response: ServerResponse): Promise<number> {
  if (to <= from) return 0;
  const file = await open(path, 'r');
  try {
    let at = from;
    const buffer = Buffer.alloc(Math.min(chunkBytes, to - from));
    while (at < to) {
      const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.byteLength, to - at), at);
      if (bytesRead === 0) break;
      if (!response.write(buffer.subarray(0, bytesRead))) await new Promise((resolve) => response.once('drain', resolve));
      at += bytesRead;
    }
    return at - from;
  } finally {
    await file.close();
  }
}
