/** The HTTP API: its server, and the JSON shapes it speaks (for clients). */
export { startApiServer } from './server.js';
export { startAgentApi } from './agent-api.js';
export type { AgentApi, AgentApiOptions } from './agent-api.js';
export type { ApiServer, ApiServerOptions } from './server.js';
export type { WatchStreamOptions } from './watch-hub.js';
export type { ApiErrorCode } from './errors.js';
export { bytesFromJson, bytesJson, toBase64, utf8Bytes, utf8OrNull } from './json-bytes.js';
export type { BytesJson } from './json-bytes.js';
export { keyValueJson } from './kv-json.js';
export type * from './wire.js';
