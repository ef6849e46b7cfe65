/**
 * One HTTPS request that answers JSON, for callers without an API client: the CLI's checks
 * before it has one (a joining node's unverified look at the CA; a starting agent's health) and
 * a server enrolling an arbiter. It gives the status, the parsed body and the certificate the
 * server presented (what a caller that pins a fingerprint checks), or an error saying in a few
 * words why there was none.
 */
import { X509Certificate } from 'node:crypto';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { TLSSocket } from 'node:tls';

export interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
  /** The server's certificate (PEM), as presented on this connection. */
  readonly serverCertPem: string;
}

export type JsonRequestOptions = Pick<RequestOptions, 'ca' | 'rejectUnauthorized' | 'checkServerIdentity'>;

export function getJson(url: string, options: JsonRequestOptions, timeoutMs: number): Promise<JsonAnswer> {
  return requestJson('GET', url, undefined, options, timeoutMs);
}

export function postJson(url: string, body: unknown, options: JsonRequestOptions, timeoutMs: number): Promise<JsonAnswer> {
  return requestJson('POST', url, body, options, timeoutMs);
}

function requestJson(method: 'GET' | 'POST', url: string, body: unknown, options: JsonRequestOptions, timeoutMs: number): Promise<JsonAnswer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const headers = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
    const request = httpsRequest(url, { ...options, method, headers, timeout: timeoutMs, agent: false }, (response) => {
      const socket: unknown = response.socket;
      const raw = socket instanceof TLSSocket ? socket.getPeerCertificate().raw : undefined;
      const serverCertPem = raw === undefined ? '' : new X509Certificate(raw).toString();
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as unknown, serverCertPem });
        } catch {
          reject(new Error('did not answer with JSON: is it a Quorate port?'));
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) => reject(new Error(error.code === 'ECONNREFUSED' ? 'connection refused' : error.message)));
    request.end(payload);
  });
}
