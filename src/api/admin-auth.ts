/**
 * The token check of a worker's log route (`Authorization: Bearer <token>`) and the bounded JSON
 * body of admin requests, shared by the cluster, workload and log routes.
 */
import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.js';
import { parseJson, readBody } from './request.js';

/** Throws 401 without a token, 403 with one that `allowed` refuses; `needs` names the tokens that pass. */
export function requireToken(request: IncomingMessage, allowed: (token: string) => boolean, needs: string): void {
  const header = request.headers.authorization;
  if (header === undefined) throw new ApiError('unauthorized', `this request needs ${needs} (Authorization: Bearer <token>)`);
  const token = /^Bearer (\S+)$/.exec(header)?.[1];
  if (token === undefined || !allowed(token)) throw new ApiError('forbidden', `the token is not valid here: this request needs ${needs}`);
}

/** A small JSON request body (`what` names it in the error when it is too large). */
export async function smallJsonBody(request: IncomingMessage, what: string, bytesMax: number): Promise<unknown> {
  const tooLarge = (): ApiError => new ApiError('body_too_large', `${what} is limited to ${bytesMax} bytes`);
  return parseJson(await readBody(request, bytesMax, tooLarge));
}
