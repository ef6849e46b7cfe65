/**
 * A minimal JSON-over-HTTP client on keep-alive agents. The benchmark's own overhead per request
 * must stay small and identical for every target, so this is plain node:http with no retries
 * (node:https for a cluster made by `quorate cluster init`, which serves only HTTPS).
 */
import { Agent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 200)}`);
  }
}

/**
 * An agent that keeps up to socketsMax connections to one endpoint open between requests; with
 * caPem, an HTTPS agent that trusts only that CA.
 */
export function keepAliveAgent(socketsMax: number, caPem?: string): Agent {
  const options = { keepAlive: true, maxSockets: socketsMax, maxFreeSockets: socketsMax };
  return caPem === undefined ? new Agent(options) : new HttpsAgent({ ...options, ca: caPem });
}

/**
 * POSTs body as JSON and resolves with the parsed response. Rejects on a non-2xx status, on a
 * network error, or when the connection stays silent for timeoutMs.
 */
export function postJson(agent: Agent, url: URL, body: unknown, timeoutMs: number): Promise<unknown> {
  return requestJson(agent, 'POST', url, { bytes: Buffer.from(JSON.stringify(body)), type: 'application/json' }, timeoutMs);
}

/** Any method, with an optional raw body, answered with JSON; rejects as postJson does. */
export function requestJson(agent: Agent, method: string, url: URL, body: { bytes: Uint8Array; type: string } | null, timeoutMs: number, token?: string): Promise<unknown> {
  const headers = { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === null ? {} : { 'content-type': body.type, 'content-length': body.bytes.byteLength }) };
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) reject(new HttpStatusError(status, text));
        else resolveParsed(text, resolve, reject);
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response from ${url.href} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body?.bytes);
  });
}

/** A malformed body rejects the request; thrown inside the response's 'end' handler, nothing would catch it. */
function resolveParsed(text: string, resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  try {
    resolve(JSON.parse(text) as unknown);
  } catch (error) {
    reject(error);
  }
}
