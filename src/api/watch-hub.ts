/**
 * Watch streams: each one is a chunked HTTP response of newline-delimited JSON (WatchLineJson
 * in wire.ts), fed by a service.watch subscription. The hub owns every open stream, with its
 * subscription and progress timer, so that closing the API server closes them all.
 *
 * A stream starts with a progress line carrying the node's applied revision, then repeats one
 * every `progressIntervalMs`. Because the service calls watchers synchronously as it applies,
 * every event up to that revision has been written before the line: a client may resume from
 * the revision after it. The periodic line also lets clients tell an idle stream from a dead
 * one. A consumer that falls `bufferedBytesMax` behind is cut off (it resumes elsewhere)
 * rather than growing the server's memory without bound: writes to a stream never wait for
 * its reader, so a stalled reader cannot hold up the apply path (and with it the leader).
 *
 * Each principal (a token; the admin token is one too) may hold `streamsPerPrincipalMax`
 * streams on this node at once. Every stream costs a subscription that the apply path feeds
 * and up to bufferedBytesMax of memory, so without the cap one client could make each write
 * cost the node thousands of copies. A stream can watch any prefix, so a client that needs
 * more watches one common prefix instead.
 */
import { Buffer } from 'node:buffer';
import type { ServerResponse } from 'node:http';
import type { KvService, Principal } from '../server/index.js';
import type { Disposable, KvEvent } from '../state/index.js';
import { ApiError, fromKvFailure } from './errors.js';
import { keyValueJson } from './kv-json.js';
import { Tally } from './tally.js';
import type { WatchLineJson } from './wire.js';

export interface WatchStreamOptions {
  readonly progressIntervalMs: number;
  readonly bufferedBytesMax: number;
  readonly streamsPerPrincipalMax: number;
}

export const defaultWatchStreamOptions: WatchStreamOptions = { progressIntervalMs: 5000, bufferedBytesMax: 8 * 1024 * 1024, streamsPerPrincipalMax: 1000 };

export interface WatchCounts {
  readonly open: number;
  /** Streams refused for streamsPerPrincipalMax since start. */
  readonly refused: number;
  /** Streams cut off for falling bufferedBytesMax behind since start. */
  readonly cutBehind: number;
}

export interface WatchTarget {
  readonly from: number;
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array | undefined;
}

function line(json: WatchLineJson): string {
  return `${JSON.stringify(json)}\n`;
}

function eventLine(event: KvEvent): string {
  return line({ type: event.type, ...keyValueJson(event.kv), revision: event.kv.modRevision });
}

export class WatchHub {
  private readonly closers = new Set<() => void>();
  /** Open streams by principal name. */
  private readonly byPrincipal = new Tally();
  private refused = 0;
  private cutBehind = 0;

  constructor(
    private readonly options: WatchStreamOptions,
    private readonly log: (message: string) => void,
  ) {}

  counts(): WatchCounts {
    return { open: this.closers.size, refused: this.refused, cutBehind: this.cutBehind };
  }

  /** Subscribe and start streaming; throws an ApiError (e.g. compacted) before sending anything. */
  open(service: KvService, response: ServerResponse, target: WatchTarget, principal: Principal): void {
    const held = this.byPrincipal.get(principal.name);
    if (held >= this.options.streamsPerPrincipalMax) {
      this.refused++;
      throw new ApiError(
        'too_many_watches',
        `this token already has ${held} watch streams open on this node (streamsPerPrincipalMax is ${this.options.streamsPerPrincipalMax}); close streams it no longer reads, or watch a common prefix with one stream`,
      );
    }
    // History arrives synchronously inside service.watch, before the headers can be sent.
    let early: string[] | null = [];
    let subscription: Disposable | null = null;
    let timer: NodeJS.Timeout | null = null;
    // The history is written whole (the store hands it over at once); only falling behind by
    // more than bufferedBytesMax beyond it cuts a client off, or a large history never could go.
    let bufferedBytesMax = this.options.bufferedBytesMax;
    const close = (): void => {
      if (!this.closers.delete(close)) return;
      this.byPrincipal.remove(principal.name);
      if (timer !== null) clearInterval(timer);
      subscription?.dispose();
      if (!response.writableEnded) response.end();
    };
    const send = (text: string): void => {
      if (early !== null) early.push(text);
      else if (!response.write(text) && response.writableLength > bufferedBytesMax) {
        this.log(`watch: closing a stream whose client is more than ${this.options.bufferedBytesMax} bytes behind (bufferedBytesMax)`);
        this.cutBehind++;
        response.destroy();
      }
    };
    // Both run outside this request's promise (the listener inside the node's apply path), so
    // a throw must end the stream, not escape.
    const guarded = (body: () => void) => (): void => {
      try {
        body();
      } catch (error) {
        this.log(`watch: dropping a stream after an error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        response.destroy();
      }
    };
    const progress = guarded(() => send(line({ type: 'progress', revision: service.status().revision })));
    // Events the node skipped by installing a snapshot are compacted: end the stream, and the
    // client's resume from its last revision + 1 gets the compacted error it must act on.
    const compacted = (): void => {
      this.log('watch: closing a stream whose next events were compacted before this node caught up');
      response.destroy();
    };
    const result = service.watch(target.from, target.key, target.rangeEnd, (events) => guarded(() => send(events.map(eventLine).join('')))(), compacted);
    if ('ok' in result) throw fromKvFailure(result);
    subscription = result;
    this.closers.add(close);
    this.byPrincipal.add(principal.name);
    response.on('close', close);
    response.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    const history = early.join('');
    early = null;
    bufferedBytesMax += Buffer.byteLength(history);
    if (history !== '') send(history);
    progress();
    timer = setInterval(progress, this.options.progressIntervalMs);
  }

  closeAll(): void {
    for (const close of [...this.closers]) close();
  }
}
