/**
 * Every fuzz target with its properties, for the long run (long-run.ts). The HTTP API's
 * properties need a running node, so each target opens its properties and closes them after.
 */
import { ApiFuzzNode } from './api-node.js';
import { apiProperties } from './api.js';
import { configTarget } from './config-documents.js';
import { documentProperties } from './documents.js';
import { fencingTarget } from './fencing-documents.js';
import { frameProperties } from './frames.js';
import { jobTarget } from './job-documents.js';
import { joinTokenProperties } from './join-tokens.js';
import { messageProperties } from './messages.js';
import type { FuzzProperty } from './property.js';

export interface FuzzTarget {
  readonly name: string;
  open(): Promise<{ readonly properties: readonly FuzzProperty[]; close(): Promise<void> }>;
}

function fixed(name: string, properties: readonly FuzzProperty[]): FuzzTarget {
  return { name, open: () => Promise.resolve({ properties, close: () => Promise.resolve() }) };
}

export const fuzzTargets: readonly FuzzTarget[] = [
  fixed('frame decoder (src/transport/frame-codec.ts)', frameProperties),
  fixed('message decoder (src/transport/message-codec.ts, protocol.ts)', messageProperties),
  fixed('job files (src/workload/job-spec.ts)', documentProperties(jobTarget)),
  fixed('fencing file (src/workload/fencing-file.ts)', documentProperties(fencingTarget)),
  fixed('server config (src/server/config.ts)', documentProperties(configTarget)),
  fixed('join tokens (src/cluster/join-token.ts)', joinTokenProperties),
  {
    name: 'HTTP API (src/api, a real single-node server)',
    async open() {
      const node = await ApiFuzzNode.start();
      return { properties: apiProperties(node), close: () => node.stop() };
    },
  },
];
