/**
 * GET /v1/watch?key=K or ?prefix=P, with optional from=REV (0 or absent: only changes after
 * now). An empty prefix watches every key. The stream itself is WatchHub's.
 */
import { allowKeys } from './key-access.js';
import { badRequest } from './errors.js';
import { caller, type RequestContext } from './handler.js';
import { prefixRange } from './request.js';

export function watch(context: RequestContext): Promise<null> {
  const { query } = context;
  query.allowOnly(['key', 'prefix', 'from']);
  if (query.has('key') === query.has('prefix')) throw badRequest('give exactly one of the parameters "key" and "prefix"');
  const from = query.count('from') ?? 0;
  const key = query.bytes('key');
  if (key !== undefined) {
    if (key.byteLength === 0) throw badRequest('parameter "key" is empty (use prefix= to watch every key)');
    allowKeys(context.principal, key);
    context.watches.open(context.service, context.response, { from, key, rangeEnd: undefined }, caller(context));
  } else {
    const range = prefixRange(query.bytes('prefix') ?? new Uint8Array(0));
    allowKeys(context.principal, range.key, range.rangeEnd);
    context.watches.open(context.service, context.response, { from, ...range }, caller(context));
  }
  return Promise.resolve(null);
}
