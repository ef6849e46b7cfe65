/**
 * Watch streams: each one is a chunked HTTP response of newline-delimited JSON (WatchLineJson
 * in wire.ts), fed by a service.watch subscription. The node's event streams (GET /v1/events
 * with follow, events-handler.ts) are framed, paced and limited the same way, and count as
 * watch streams. The hub owns every open stream, with its subscription and progress timer, so
 * that closing the API server closes them all.
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

/** What one stream carries; WatchHub.stream frames, paces and limits it. */
export interface LineSource {
  /**
   * Start feeding lines through `send` (whose `render` runs inside the hub's guard); lines sent
   * before this returns are the history. `end` closes the stream early, saying why. Throws an
   * ApiError to refuse the stream before anything is sent.
   */
  subscribe(send: (render: () => string) => void, end: (why: string) => void): Disposable;
  /** The progress line: sent after the history, then every progressIntervalMs. */
  progress(): string;
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
    this.stream(response, principal, {
      subscribe: (send, end) => {
        // Events the node skipped by installing a snapshot are compacted: end the stream, and the
        // client's resume from its last revision + 1 gets the compacted error it must act on.
        const compacted = (): void => end('closing a stream whose next events were compacted before this node caught up');
        const result = service.watch(target.from, target.key, target.rangeEnd, (events) => send(() => events.map(eventLine).join('')), compacted);
        if ('ok' in result) throw fromKvFailure(result);
        return result;
      },
      progress: () => line({ type: 'progress', revision: service.status().revision }),
    });
  }

  /**
   * Start a stream of `source`'s lines (a watch, the node's events): its history first, whole,
   * then a progress line, then live lines as they come and a progress line every
   * progressIntervalMs. Throws an ApiError before sending anything when the source refuses, or
   * when the principal holds streamsPerPrincipalMax streams already.
   */
  stream(response: ServerResponse, principal: Principal, source: LineSource): void {
    const held = this.byPrincipal.get(principal.name);
    if (held >= this.options.streamsPerPrincipalMax) {
      this.refused++;
      throw new ApiError(
        'too_many_watches',
        `this token already has ${held} watch streams open on this node (streamsPerPrincipalMax is ${this.options.streamsPerPrincipalMax}); close streams it no longer reads, or watch a common prefix with one stream`,
      );
    }
    // History arrives synchronously inside subscribe, before the headers can be sent.
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
    const write = (text: string): void => {
      if (early !== null) early.push(text);
      else if (!response.write(text) && response.writableLength > bufferedBytesMax) {
        this.log(`watch: closing a stream whose client is more than ${this.options.bufferedBytesMax} bytes behind (bufferedBytesMax)`);
        this.cutBehind++;
        response.destroy();
      }
    };
    // Lines are made and written outside this request's promise (the source's listener runs
    // inside the node's apply path), so a throw must end the stream, not escape.
    const send = (render: () => string): void => {
      try {
        write(render());
      } catch (error) {
        this.log(`watch: dropping a stream after an error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        response.destroy();
      }
    };
    const end = (why: string): void => {
      this.log(`watch: ${why}`);
      response.destroy();
    };
    subscription = source.subscribe(send, end);
    this.closers.add(close);
    this.byPrincipal.add(principal.name);
    response.on('close', close);
    response.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    const history = early.join('');
    early = null;
    bufferedBytesMax += Buffer.byteLength(history);
    if (history !== '') write(history);
    const progress = (): void => send(() => source.progress());
    progress();
    timer = setInterval(progress, this.options.progressIntervalMs);
  }

  closeAll(): void {
    for (const close of [...this.closers]) close();
  }
}
