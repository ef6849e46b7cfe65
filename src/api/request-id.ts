/**
 * Request ids tie a client's call to the server's log lines about it. A caller (a proxy, a
 * script) may send its own in `x-request-id`; it is kept only when short and made of safe
 * characters, since it is echoed in a response header and written into logs, where a long or
 * odd value could forge lines or bloat them. Otherwise the server makes one.
 */
import { randomBytes } from 'node:crypto';

export const requestIdHeader = 'x-request-id';

/** Letters, digits and `._:-`, at most 64: UUIDs, ULIDs and most proxies' ids fit. */
const safeRequestId = /^[A-Za-z0-9._:-]{1,64}$/;

export function isSafeRequestId(value: string): boolean {
  return safeRequestId.test(value);
}

/** The caller's id when it is safe, else a new one (16 hex digits). */
export function requestIdFor(header: string | readonly string[] | undefined): string {
  return typeof header === 'string' && isSafeRequestId(header) ? header : randomBytes(8).toString('hex');
}
