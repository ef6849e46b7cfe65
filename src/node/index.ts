/** The node driver and the interfaces it is written against. */
export { RaftNode, defaultTimings, bootstrapState, emptyState } from './raft-node.js';
export { systemClock } from './system-clock.js';
export type { NodeObserver, NodeTimings, RaftNodeOptions } from './raft-node.js';
export type { Clock, LogStorage, LogUpdate, PersistedState, StateMachine, Timer, Transport } from './interfaces.js';
