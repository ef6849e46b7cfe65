/**
 * Raw HTTP requests for the API tests, over node:http so that paths go out exactly as written
 * (fetch would normalize them) and any body can be sent, including a lying Content-Length.
 */
import { request } from 'node:http';

export interface RawAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  /** The body parsed as JSON (an empty object for an empty body). */
  readonly json: Record<string, unknown>;
}

export function raw(baseUrl: string, method: string, path: string, body?: string | Uint8Array, headers: Record<string, string | number> = {}): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) });
      });
    });
    // A server that refuses a body answers before reading it all; the EPIPE after is expected.
    req.on('error', (error) => (req.writableEnded && (error as { code?: string }).code === 'EPIPE' ? undefined : reject(error)));
    req.end(body);
  });
}
