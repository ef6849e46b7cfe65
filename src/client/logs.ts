/**
 * An allocation's output (GET /v1/allocations/{id}/logs) as an async iterable of text. The log
 * lives only on the node that runs the allocation, so that node is asked at its own API
 * address, with the client's CA and token; no other endpoint could answer in its place.
 *
 * Without `follow` the whole answer must arrive within the request timeout; with it the
 * response stays open as long as the task may write, so only the connection and the headers
 * are bounded, and the caller ends it with its AbortSignal.
 */
import { answerJson } from './decode.js';
import { queryString } from './encode.js';
import { QuorateClientError } from './errors.js';
import { readAnswer, type Endpoints } from './transport.js';
import type { LogOptions } from './types.js';

export async function* readLogs(node: Endpoints, id: string, options: LogOptions, timeoutMs: number): AsyncGenerator<string> {
  const { signal } = options;
  const deadline = Date.now() + timeoutMs;
  const query = queryString({ stream: options.stream, offset: options.offset, follow: options.follow === true ? true : undefined });
  const { response, endpoint } = await node.open({ method: 'GET', path: `/v1/allocations/${encodeURIComponent(id)}/logs${query}` }, timeoutMs);
  if (response.statusCode !== 200) {
    // An error answer throws its code and message (not_found, unauthorized, ...).
    answerJson({ status: response.statusCode ?? 0, body: await readAnswer(response, endpoint, deadline) });
    throw new QuorateClientError('bad_response', `the log was refused with HTTP ${response.statusCode ?? 0}`);
  }
  const timer = options.follow === true ? null : setTimeout(() => response.destroy(new QuorateClientError('timeout', `${endpoint.url} did not finish the log in time`)), Math.max(0, deadline - Date.now()));
  const onAbort = (): void => {
    response.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  // The signal may have fired while the request was being opened.
  if (signal?.aborted === true) onAbort();
  response.setEncoding('utf8');
  try {
    for await (const chunk of response) yield chunk as string;
  } catch (error) {
    if (signal?.aborted === true) return;
    if (error instanceof QuorateClientError) throw error;
    throw new QuorateClientError('bad_response', `the log from ${endpoint.url} was cut short (${(error as Error).message})`);
  } finally {
    if (timer !== null) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    response.destroy();
  }
}
