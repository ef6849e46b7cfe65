/** The consensus core: pure, synchronous, deterministic. See raft.ts for the contract. */
export { Raft } from './raft.js';
export type { BasicStatus, RaftInit, RaftStatus, Proposed } from './raft.js';
export { defaultRaftConfig, validateRaftConfig } from './config.js';
export type { RaftConfig, ReadMode, TestingBugs } from './config.js';
export { RaftError } from './errors.js';
export type { RaftErrorCode } from './errors.js';
export { applyConfChange, message, entrySize, sendableBeforePersist } from './types.js';
export type * from './types.js';
