/**
 * GET /metrics: the node's registry in the Prometheus text format (metrics.ts and
 * request-metrics.ts say what is in it). It needs a token with the read role, which
 * Prometheus sends as `authorization: Bearer <token>` (its scrape config's `authorization`
 * block, or `bearer_token_file`).
 */
import { Buffer } from 'node:buffer';
import type { Reply, RequestContext } from './handler.js';

export async function metrics(context: RequestContext): Promise<Reply | null> {
  context.query.allowOnly([]);
  const text = await context.metrics.metrics();
  context.response.writeHead(200, { 'content-type': context.metrics.contentType, 'content-length': Buffer.byteLength(text) });
  context.response.end(text);
  return null;
}
