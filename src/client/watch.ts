/**
 * A watch as an async iterator over the API's newline-delimited JSON stream (GET /v1/watch).
 * When the stream ends, breaks or falls silent for `idleTimeoutMs` (the server sends a
 * progress line every few seconds), it is reopened on the next endpoint from the position
 * ResumePosition keeps, so the consumer sees every event exactly once. Only a first
 * connection that no endpoint accepts, or an error answer (e.g. 410 compacted), ends the
 * iteration with an error; later outages are waited out with backoff until close().
 */
import type { IncomingMessage } from 'node:http';
import { keyValue, numberField, refusal } from './decode.js';
import { queryString } from './encode.js';
import { QuorateClientError } from './errors.js';
import { ResumePosition } from './resume.js';
import type { Endpoints } from './transport.js';
import type { WatchEvent, WatchTarget } from './types.js';

export interface WatchOptions {
  /** The first revision to deliver; 0 or absent: only changes after the watch starts. */
  readonly from?: number;
  /** A stream silent this long is taken as dead; keep it above the server's progress interval. */
  readonly idleTimeoutMs?: number;
  /** First wait before reconnecting when no endpoint answers; doubles up to retryDelayMsMax. */
  readonly retryDelayMs?: number;
}

const defaultIdleTimeoutMs = 15_000;
const defaultRetryDelayMs = 100;
const retryDelayMsMax = 2_000;
/** One event line holds at most one base64 value of valueBytesMax plus its key. */
const lineBytesMax = 4 * 1024 * 1024;
/** Events waiting for the consumer; beyond this the stream is paused (and the server cut it off). */
const queuedEventsMax = 10_000;
/** How long reopening a stream may take before the endpoint counts as unresponsive. */
const openTimeoutMs = 10_000;

type Waiter = { readonly resolve: (result: IteratorResult<WatchEvent>) => void; readonly reject: (error: unknown) => void };

export class WatchStream implements AsyncIterable<WatchEvent> {
  private readonly position: ResumePosition;
  private readonly queue: WatchEvent[] = [];
  private waiter: Waiter | null = null;
  private failure: Error | null = null;
  private closed = false;
  private current: IncomingMessage | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private sleeper: { readonly timer: NodeJS.Timeout; readonly wake: () => void } | null = null;

  constructor(
    private readonly endpoints: Endpoints,
    private readonly target: WatchTarget,
    private readonly options: WatchOptions,
  ) {
    this.position = new ResumePosition(options.from ?? 0);
    void this.run();
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return {
      next: () => this.next(),
      return: () => {
        this.close();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  /** Stop watching: the connection and every timer go now; the iterator finishes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopStream();
    if (this.sleeper !== null) {
      clearTimeout(this.sleeper.timer);
      this.sleeper.wake();
    }
    this.waiter?.resolve({ done: true, value: undefined });
    this.waiter = null;
  }

  private next(): Promise<IteratorResult<WatchEvent>> {
    const event = this.queue.shift();
    if (event !== undefined) {
      if (this.queue.length === queuedEventsMax / 2 && this.current?.isPaused() === true) {
        this.current.resume();
        this.armIdleTimer();
      }
      return Promise.resolve({ done: false, value: event });
    }
    if (this.failure !== null) {
      const failure = this.failure;
      this.failure = null;
      return Promise.reject(failure);
    }
    if (this.closed) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  private push(event: WatchEvent): void {
    if (this.waiter !== null) {
      this.waiter.resolve({ done: false, value: event });
      this.waiter = null;
      return;
    }
    this.queue.push(event);
    if (this.queue.length >= queuedEventsMax && this.current !== null) {
      this.current.pause();
      if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    }
  }

  private fail(cause: unknown): void {
    if (this.closed) return;
    const error = cause instanceof Error ? cause : new Error(String(cause));
    this.failure = error;
    const waiter = this.waiter;
    this.waiter = null;
    this.close();
    if (waiter !== null) {
      this.failure = null;
      waiter.reject(error);
    }
  }

  private path(): string {
    const from = this.position.from === 0 ? undefined : this.position.from;
    const target = 'key' in this.target ? { key: this.target.key } : { prefix: this.target.prefix };
    return `/v1/watch${queryString({ ...target, from })}`;
  }

  private async run(): Promise<void> {
    let connectedOnce = false;
    let delayMs = this.options.retryDelayMs ?? defaultRetryDelayMs;
    while (!this.closed) {
      try {
        const { response, endpoint } = await this.endpoints.open({ method: 'GET', path: this.path() }, openTimeoutMs);
        if (response.statusCode !== 200) {
          this.fail(await refusal(response, endpoint, 'the watch', openTimeoutMs));
          return;
        }
        connectedOnce = true;
        const sawLine = await this.consume(response);
        this.endpoints.avoid(endpoint);
        if (sawLine) delayMs = this.options.retryDelayMs ?? defaultRetryDelayMs;
      } catch (error) {
        // The first connection decides whether the endpoints are right at all.
        const transient = error instanceof QuorateClientError && (error.code === 'unreachable' || error.code === 'timeout');
        if (!transient || !connectedOnce) {
          this.fail(error);
          return;
        }
      }
      await this.sleep(delayMs);
      delayMs = Math.min(delayMs * 2, retryDelayMsMax);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) {
        resolve();
        return;
      }
      const wake = (): void => {
        this.sleeper = null;
        resolve();
      };
      this.sleeper = { timer: setTimeout(wake, ms), wake };
    });
  }

  /** Reads one stream until it ends or breaks; resolves with whether any line arrived. */
  private consume(response: IncomingMessage): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.closed) {
        response.destroy();
        resolve(false);
        return;
      }
      this.current = response;
      this.position.startStream();
      let partial = '';
      let sawLine = false;
      const finish = (): void => {
        if (this.current === response) this.stopStream();
        resolve(sawLine);
      };
      this.armIdleTimer();
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        this.armIdleTimer();
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        try {
          for (const line of lines) {
            sawLine = true;
            this.handleLine(line);
          }
          if (partial.length > lineBytesMax) throw new QuorateClientError('bad_response', `a watch line exceeds ${lineBytesMax} bytes`);
        } catch (error) {
          this.fail(error);
        }
      });
      response.on('end', finish);
      response.on('error', finish);
      response.on('close', finish);
    });
  }

  private handleLine(line: string): void {
    let json: Readonly<Record<string, unknown>>;
    try {
      json = JSON.parse(line) as Readonly<Record<string, unknown>>;
    } catch {
      throw new QuorateClientError('bad_response', 'a watch line is not JSON');
    }
    const type = json.type;
    if (type === 'progress') this.position.progress(numberField(json, 'revision'));
    else if (type === 'put' || type === 'delete') {
      const event: WatchEvent = { type, kv: keyValue(json), revision: numberField(json, 'revision') };
      if (this.position.accept(event.revision)) this.push(event);
    }
    // Other line types are from a newer server; skipping them keeps old clients working.
  }

  private armIdleTimer(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    const response = this.current;
    this.idleTimer = response === null ? null : setTimeout(() => response.destroy(), this.options.idleTimeoutMs ?? defaultIdleTimeoutMs);
  }

  private stopStream(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.current?.destroy();
    this.current = null;
  }
}
