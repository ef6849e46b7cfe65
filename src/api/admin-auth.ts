/**
 * The admin token check of admin routes (`Authorization: Bearer <token>`) and the bounded JSON
 * body of their requests, shared by the cluster, workload and log routes.
 */
import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.js';
import { parseJson, readBody } from './request.js';

/** Throws 401 without a token, 403 with one that `isAdmin` refuses. */
export function requireAdminToken(request: IncomingMessage, isAdmin: (token: string) => boolean): void {
  const header = request.headers.authorization;
  if (header === undefined) {
    throw new ApiError('unauthorized', 'this request needs the admin token (Authorization: Bearer <token>); on a server the CLI reads it from admin.token in the data directory');
  }
  const token = /^Bearer (\S+)$/.exec(header)?.[1];
  if (token === undefined || !isAdmin(token)) throw new ApiError('forbidden', 'the admin token is not valid for this cluster');
}

/** A small JSON request body (`what` names it in the error when it is too large). */
export async function smallJsonBody(request: IncomingMessage, what: string, bytesMax: number): Promise<unknown> {
  const tooLarge = (): ApiError => new ApiError('body_too_large', `${what} is limited to ${bytesMax} bytes`);
  return parseJson(await readBody(request, bytesMax, tooLarge));
}
