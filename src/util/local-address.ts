/** Whether this machine can send from an address: one of its interfaces', or any of 127/8 on Linux (all of it is local there). */
import { isIP } from 'node:net';
import { networkInterfaces, platform } from 'node:os';

export function isLocalAddress(address: string): boolean {
  if (isIP(address) === 0) return false;
  if (platform() === 'linux' && isIP(address) === 4 && address.startsWith('127.')) return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === address) ?? false);
}
