/**
 * HTTPS requests from tests to nodes that serve their API with a certificate from the cluster
 * CA (fetch cannot be given a CA): one whole answer, or a response's lines as they stream in
 * (watch streams).
 */
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';

export interface HttpsOptions {
  readonly ca: string;
  readonly method?: string;
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

function send(url: string, options: HttpsOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const body = options.body;
    const headers = { ...options.headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) };
    const req = request(url, { method: options.method ?? 'GET', ca: options.ca, headers, agent: false, timeout: options.timeoutMs ?? 10_000 }, resolve);
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${options.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export async function httpsText(url: string, options: HttpsOptions): Promise<{ status: number; text: string }> {
  const response = await send(url, options);
  let text = '';
  response.setEncoding('utf8');
  for await (const chunk of response) text += chunk as string;
  return { status: response.statusCode ?? 0, text };
}

/** The status, then each line of the body as it arrives; breaking out of the loop closes the connection. */
export async function httpsLines(url: string, options: HttpsOptions): Promise<{ status: number; lines: AsyncGenerator<string> }> {
  const response = await send(url, options);
  async function* lines(): AsyncGenerator<string> {
    let buffered = '';
    response.setEncoding('utf8');
    try {
      for await (const chunk of response) {
        buffered += chunk as string;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          yield buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
        }
      }
    } finally {
      response.destroy();
    }
  }
  return { status: response.statusCode ?? 0, lines: lines() };
}
