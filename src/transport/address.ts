/** Peer addresses as configured: `host:port`, with IPv6 hosts in brackets (`[::1]:7000`). */
import { QuorateError } from '../util/errors.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export function parseHostPort(text: string): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new QuorateError('invalid_address', `"${text}" is not a peer address of the form host:port (or [ipv6]:port)`);
  }
  return { host, port };
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
