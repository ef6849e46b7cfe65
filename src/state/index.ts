/** The replicated state machines' public surface (DESIGN.md section 2, rule 9). */
export { KvStateMachine } from './kv-machine.js';
export { KvStore } from './kv-store.js';
export { msgpackKvCodec } from './command-codec.js';
export type { KvCommandCodec } from './command-codec.js';
export { prefixEnd, txnKeyRanges } from './keys.js';
export {
  commandBytesMax,
  keyBytesMax,
  leasesMax,
  leaseTtlSecondsMax,
  rangeResultsMax,
  txnComparesMax,
  txnDepthMax,
  txnOpsMax,
  valueBytesMax,
} from './types.js';
export type * from './types.js';
export { kvFailure } from './types.js';
export { ClusterStateMachine, commandTable, encodeCredentialCommand, encodeFencingCommand, encodeKvCommand, encodeMemberCommand, encodeWorkloadCommand } from './cluster-machine.js';
export { FencingRegistry, defaultFencingConfig, fenceHistoryMax, fencingConfigProblem, fencingConfigSchema } from './fencing.js';
export type { FenceDevice, FenceEvent, FenceLevel, FenceMethod, FencingCommand, FencingConfig, FencingResponse, FencingState } from './fencing.js';
export { CredentialRegistry } from './credentials.js';
export { aclRoles } from './credentials.js';
export type { AclRole, AclTokenRecord, ClusterTrust, CredentialCommand, CredentialResponse, CredentialState, JoinTokenRecord, TokenRole } from './credentials.js';
export type { ClusterApplyResult, CommandTable } from './cluster-machine.js';
export { MemberRegistry, memberProblem } from './members.js';
export type { Member, MemberSetRequest, MemberSetResponse } from './members.js';
export { WorkloadRegistry, allocStatusSchema, endedAllocationsPerJobMax, isEnded, isWorkloadCommand, jobSpecProblem, nodeDescriptionSchema } from './workload.js';
export type * from './workload.js';
