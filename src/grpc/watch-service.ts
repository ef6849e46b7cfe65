/** etcdserverpb.Watch: each call is a WatchStream (watch-stream.ts) for a caller with role read. */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { ServiceRegistrar } from './context.js';
import type { WatchRequestMessage, WatchResponseMessage } from './messages.js';
import { etcdServices } from './protocol.js';
import { WatchStream, type WatchOptions } from './watch-stream.js';

export { defaultWatchOptions } from './watch-stream.js';
export type { WatchOptions } from './watch-stream.js';

export function watchService(options: WatchOptions): ServiceRegistrar {
  return (server, context) => {
    server.addService(etcdServices.watch, {
      Watch: (call: ServerDuplexStream<WatchRequestMessage, WatchResponseMessage>) => {
        try {
          WatchStream.open(context, call, context.auth.check(call, 'read'), options);
        } catch (error) {
          call.emit('error', context.failure(error));
        }
      },
    });
  };
}
