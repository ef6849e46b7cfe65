/**
 * One HTTPS GET that answers JSON, for the CLI's checks before it has a client (a joining node's
 * unverified look at the CA; a starting agent's health): the status and the parsed body, or an
 * error saying in a few words why there was none.
 */
import { get as httpsGet, type RequestOptions } from 'node:https';

export interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
}

export function getJson(url: string, options: Pick<RequestOptions, 'ca' | 'rejectUnauthorized'>, timeoutMs: number): Promise<JsonAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpsGet(url, { ...options, timeout: timeoutMs }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch {
          reject(new Error('did not answer with JSON: is it a Quorate API port?'));
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) => reject(new Error(error.code === 'ECONNREFUSED' ? 'connection refused' : error.message)));
  });
}
