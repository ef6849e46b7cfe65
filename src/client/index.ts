/** The typed client of the HTTP API. */
export { QuorateClient } from './client.js';
export type { QuorateClientOptions } from './client.js';
export { QuorateClientError } from './errors.js';
export type { WatchOptions, WatchStream } from './watch.js';
export type { EventStreamOptions } from './events.js';
export type * from './types.js';
