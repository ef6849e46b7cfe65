/** Listening on an address, with the failure a user can act on (the address is taken, or not this machine's). */
import type { Server } from 'node:net';
import { QuorateError } from '../util/errors.js';
import { formatHostPort } from './address.js';
import type { TransportLog } from './log.js';

/** Resolves with the port bound (useful with port 0); later errors are logged as `what` errors. */
export function listenOn(server: Server, host: string, port: number, what: string, log: TransportLog): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(new QuorateError('listen_failed', `cannot listen for ${what} on ${formatHostPort(host, port)}: ${error.message}`));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      server.on('error', (error: Error) => log('error', `${what} listener error: ${error.message}`, {}));
      const bound = server.address();
      resolve(typeof bound === 'object' && bound !== null ? bound.port : port);
    });
  });
}
