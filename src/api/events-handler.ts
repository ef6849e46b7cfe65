/**
 * GET /v1/events?from=SEQ (read): this node's buffered cluster events with seq >= SEQ (0 or
 * absent: all of them) as EventsJson. With follow=true the answer is a stream instead (WatchHub
 * frames and limits it): the same events, one per line, then a progress line carrying `next`,
 * then each new event as the node records it, and a progress line every few seconds. Events are
 * numbered per node, so a client that resumes does so on the same node, from `next`.
 */
import { caller, ok, type Reply, type RequestContext } from './handler.js';
import type { EventLineJson, EventsJson } from './wire.js';

function line(json: EventLineJson): string {
  return `${JSON.stringify(json)}\n`;
}

export function events(context: RequestContext): Promise<Reply | null> {
  const { query } = context;
  query.allowOnly(['from', 'follow']);
  const from = query.count('from') ?? 0;
  const feed = context.service.events;
  if (!query.flag('follow')) {
    const page: EventsJson = feed.since(from);
    return Promise.resolve(ok(page));
  }
  context.watches.stream(context.response, caller(context), {
    subscribe: (send) => {
      const subscription = feed.subscribe((event) => send(() => line(event)));
      for (const event of feed.since(from).events) send(() => line(event));
      return subscription;
    },
    progress: () => line({ type: 'progress', next: feed.next }),
  });
  return Promise.resolve(null);
}

