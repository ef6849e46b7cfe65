/** The replicated state machines' public surface (DESIGN.md section 2, rule 9). */
export { KvStateMachine } from './kv-machine.js';
export { KvStore } from './kv-store.js';
export { jsonKvCodec } from './command-codec.js';
export type { KvCommandCodec } from './command-codec.js';
export { prefixEnd } from './keys.js';
export {
  commandBytesMax,
  keyBytesMax,
  leasesMax,
  leaseTtlSecondsMax,
  rangeResultsMax,
  txnComparesMax,
  txnOpsMax,
  valueBytesMax,
} from './types.js';
export type * from './types.js';
