/**
 * A node's cluster events as they happen (GET /v1/events?follow=true), as an async iterable.
 * Events are numbered per node, so the stream stays with the node that answered first: when it
 * ends, breaks or falls silent for `idleTimeoutMs` (the server sends a progress line every few
 * seconds) the iteration fails with `unreachable`, naming the node and the seq to resume from
 * there. Aborting `signal` ends it quietly (Ctrl-C in `quorate events --follow`).
 */
import type { ClusterEventJson } from '../api/index.js';
import { numberField, refusal } from './decode.js';
import { queryString } from './encode.js';
import { QuorateClientError } from './errors.js';
import type { Endpoints } from './transport.js';

export interface EventStreamOptions {
  /** The first seq to deliver; 0 or absent: every event the node still holds. */
  readonly from?: number;
  /** A stream silent this long is taken as dead; keep it above the server's progress interval. */
  readonly idleTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

const defaultIdleTimeoutMs = 15_000;
/** An event is a short sentence and a few fields; anything longer is not our server talking. */
const lineCharsMax = 64 * 1024;

export async function* followEvents(endpoints: Endpoints, options: EventStreamOptions, timeoutMs: number): AsyncGenerator<ClusterEventJson> {
  const { signal } = options;
  const { response, endpoint } = await endpoints.open({ method: 'GET', path: `/v1/events${queryString({ from: options.from, follow: true })}` }, timeoutMs);
  if (response.statusCode !== 200) throw await refusal(response, endpoint, 'the event stream', timeoutMs);
  const idleTimeoutMs = options.idleTimeoutMs ?? defaultIdleTimeoutMs;
  let next = options.from ?? 0;
  // Set from timer callbacks: an object, so that the checks after the loop see the changes.
  const watch: { idle: NodeJS.Timeout | null; silent: boolean } = { idle: null, silent: false };
  const arm = (): void => {
    if (watch.idle !== null) clearTimeout(watch.idle);
    watch.idle = setTimeout(() => {
      watch.silent = true;
      response.destroy();
    }, idleTimeoutMs);
  };
  const onAbort = (): void => {
    response.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  // The signal may have fired while the request was being opened.
  if (signal?.aborted === true) onAbort();
  arm();
  response.setEncoding('utf8');
  let partial = '';
  try {
    for await (const chunk of response) {
      arm();
      const lines = (partial + (chunk as string)).split('\n');
      partial = lines.pop() ?? '';
      if (partial.length > lineCharsMax) throw new QuorateClientError('bad_response', `an event line from ${endpoint.url} exceeds ${lineCharsMax} characters`);
      for (const line of lines) {
        const json = parseLine(line);
        if (json.type === 'progress') {
          next = numberField(json, 'next');
          continue;
        }
        const event = clusterEvent(json);
        next = event.seq + 1;
        yield event;
      }
    }
  } catch (error) {
    if (error instanceof QuorateClientError) throw error;
    // A destroyed response (abort, silence) ends the loop with an error: judged below.
  } finally {
    if (watch.idle !== null) clearTimeout(watch.idle);
    signal?.removeEventListener('abort', onAbort);
    response.destroy();
  }
  if (signal?.aborted === true) return;
  const why = watch.silent ? `sent nothing for ${idleTimeoutMs} ms` : 'ended';
  throw new QuorateClientError('unreachable', `the event stream from ${endpoint.url} ${why}; follow it again from ${next} (--from ${next})`);
}

type Json = Readonly<Record<string, unknown>>;

function parseLine(line: string): Json {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new QuorateClientError('bad_response', 'an event line is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new QuorateClientError('bad_response', 'an event line is not a JSON object');
  return json as Json;
}

/** Checked just enough that a line from something else fails here rather than in the printing. */
export function clusterEvent(json: Json): ClusterEventJson {
  numberField(json, 'seq');
  if (typeof json.time !== 'string' || typeof json.type !== 'string' || typeof json.message !== 'string') throw new QuorateClientError('bad_response', 'an event lacks its time, type or message');
  return json as unknown as ClusterEventJson;
}
