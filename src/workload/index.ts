/** Running jobs: the agent, the leader's scheduling loop, the scheduler and the process driver. */
export { Agent } from './agent.js';
export type { AgentLink, AgentOptions } from './agent.js';
export { HttpLink } from './http-link.js';
export { WorkloadLeader, lossMarginMs, lostAfterMs } from './leader.js';
export type { NodeView, WorkloadLeaderContext } from './leader.js';
export { reconcile } from './scheduler.js';
export type { Blocked, Plan } from './scheduler.js';
export { logPath, logStreams } from './process-driver.js';
export { heartbeatAttemptMs, parseHeartbeat } from './protocol.js';
export type { AllocStatusReport, HeartbeatRequest, HeartbeatResponse, NodeDescription } from './protocol.js';
export { startAgent } from './start-agent.js';
export type { StartAgentOptions } from './start-agent.js';
export { loadFencingFile } from './fencing-file.js';
export { fenceWithDevices } from './fencer.js';
export type { FenceOutcome, FenceTarget } from './fencer.js';
