/**
 * One HTTP exchange over a raw TCP socket, so that any bytes at all can be sent (node:http
 * refuses to send malformed requests) and whatever comes back is seen as it is: interim 1xx
 * answers are skipped, a body is read by its Content-Length, and a chunked stream (a watch) is
 * cut off after its first bytes, since it never ends.
 */
import { connect } from 'node:net';

export interface Answer {
  readonly status: number;
  /** Lower-case names. */
  readonly headers: ReadonlyMap<string, string>;
  /** The whole body, or the first bytes of a stream. */
  readonly body: Buffer;
}

export type Exchange =
  | { readonly kind: 'answer'; readonly answer: Answer }
  /** The server closed or reset the connection without answering; `error` is the socket's. */
  | { readonly kind: 'dropped'; readonly error: string | null }
  | { readonly kind: 'silent' };

interface Head {
  readonly status: number;
  readonly headers: Map<string, string>;
  readonly bodyStart: number;
}

function parseHead(bytes: Buffer, from: number): Head | null {
  const end = bytes.indexOf('\r\n\r\n', from);
  if (end < 0) return null;
  const [statusLine = '', ...lines] = bytes.subarray(from, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: status === undefined ? 0 : Number(status), headers, bodyStart: end + 4 };
}

/** The final answer in `bytes` once it is complete; `closed` says no more bytes will come. */
function completeAnswer(bytes: Buffer, headRequest: boolean, closed: boolean): Answer | null {
  let from = 0;
  for (;;) {
    const head = parseHead(bytes, from);
    if (head === null) return null;
    if (head.status >= 100 && head.status < 200) {
      from = head.bodyStart;
      continue;
    }
    const body = bytes.subarray(head.bodyStart);
    const length = head.headers.get('content-length');
    if (headRequest) return { ...head, body: Buffer.alloc(0) };
    if (length !== undefined) return body.length >= Number(length) ? { ...head, body: body.subarray(0, Number(length)) } : null;
    if (head.headers.get('transfer-encoding') === 'chunked') return body.length > 0 || closed ? { ...head, body } : null;
    return closed ? { ...head, body } : null;
  }
}

export interface ExchangeOptions {
  /** The request is a HEAD: its answer has no body, whatever Content-Length says. */
  readonly head: boolean;
  /**
   * Half-close the connection after the request, so that a server waiting for the rest of a
   * cut request sees the end at once.
   */
  readonly endAfterSending: boolean;
  readonly timeoutMs: number;
  /** The loopback address to send from. */
  readonly from: string;
}

/** Sends `request` to the server on 127.0.0.1:`port` and waits for the answer. */
export function exchange(port: number, request: Buffer, options: ExchangeOptions): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: options.from });
    let received = Buffer.alloc(0);
    let error: string | null = null;
    let done = false;
    const finish = (outcome: Exchange): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: 'silent' }), options.timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const answer = completeAnswer(received, options.head, false);
      if (answer !== null) finish({ kind: 'answer', answer });
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', () => {
      const answer = completeAnswer(received, options.head, true);
      finish(answer === null ? { kind: 'dropped', error } : { kind: 'answer', answer });
    });
    socket.write(request);
    if (options.endAfterSending) socket.end();
  });
}
