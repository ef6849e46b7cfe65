/**
 * The node's whole replicated state: the user's KV, the member registry, the credentials and
 * the workload registry (nodes that run jobs, jobs, allocations), behind one StateMachine. A log entry's first byte says which of them a command is for, so the KV's
 * command format stays etcd's and internal data never shows up in a user's range or watch.
 */
import { Buffer } from 'node:buffer';
import type { Entry } from '../raft/index.js';
import type { StateMachine } from '../node/index.js';
import { assert } from '../util/assert.js';
import { msgpackKvCodec } from './command-codec.js';
import { KvStateMachine } from './kv-machine.js';
import { CredentialRegistry, isCredentialCommand, type CredentialCommand, type CredentialResponse, type CredentialState } from './credentials.js';
import { MemberRegistry, type Member, type MemberSetRequest, type MemberSetResponse } from './members.js';
import { FencingRegistry, isFencingCommand, type FencingCommand, type FencingResponse, type FencingState } from './fencing.js';
import { isWorkloadCommand, WorkloadRegistry, type WorkloadCommand, type WorkloadResponse, type WorkloadState } from './workload.js';
import { kvFailure, type KvApplyResult, type KvCommand, type KvFailure } from './types.js';

/** Tags are never reused: 1 held KV commands as JSON in development builds before msgpack. */
const kvTag = 3;
const memberTag = 2;
const credentialTag = 4;
const workloadTag = 5;
const fencingTag = 6;

export type ClusterApplyResult = KvApplyResult | MemberSetResponse | CredentialResponse | WorkloadResponse | FencingResponse;

export function encodeKvCommand(command: KvCommand): Uint8Array {
  return tagged(kvTag, msgpackKvCodec.encode(command));
}

export function encodeMemberCommand(command: MemberSetRequest): Uint8Array {
  return tagged(memberTag, new TextEncoder().encode(JSON.stringify(command)));
}

export function encodeCredentialCommand(command: CredentialCommand): Uint8Array {
  return tagged(credentialTag, new TextEncoder().encode(JSON.stringify(command)));
}

export function encodeWorkloadCommand(command: WorkloadCommand): Uint8Array {
  return tagged(workloadTag, new TextEncoder().encode(JSON.stringify(command)));
}

export function encodeFencingCommand(command: FencingCommand): Uint8Array {
  return tagged(fencingTag, new TextEncoder().encode(JSON.stringify(command)));
}

/**
 * Which part of the state an entry is for: a membership change, a new leader's empty no-op, or
 * a command for one of the tables (by its first byte). Observers of the applied log (the node's
 * cluster events) use it to skip the KV commands that make up most of the log.
 */
export type CommandTable = 'conf' | 'noop' | 'kv' | 'members' | 'credentials' | 'workload' | 'fencing' | 'unknown';

const tables: ReadonlyMap<number, CommandTable> = new Map([
  [kvTag, 'kv'],
  [memberTag, 'members'],
  [credentialTag, 'credentials'],
  [workloadTag, 'workload'],
  [fencingTag, 'fencing'],
]);

export function commandTable(entry: Entry): CommandTable {
  if (entry.type === 'conf') return 'conf';
  const tag = entry.data[0];
  if (tag === undefined) return 'noop';
  return tables.get(tag) ?? 'unknown';
}

function tagged(tag: number, body: Uint8Array): Uint8Array {
  const data = new Uint8Array(body.byteLength + 1);
  data[0] = tag;
  data.set(body, 1);
  return data;
}

export class ClusterStateMachine implements StateMachine<ClusterApplyResult> {
  readonly kv = new KvStateMachine();
  readonly members = new MemberRegistry();
  readonly credentials = new CredentialRegistry();
  readonly workload = new WorkloadRegistry();
  readonly fencing = new FencingRegistry();

  apply(entry: Entry): ClusterApplyResult {
    if (entry.type === 'conf') {
      if (entry.change.type === 'remove') this.members.remove(entry.change.nodeId);
      return this.kv.noop();
    }
    const body = entry.data.subarray(1);
    switch (commandTable(entry)) {
      case 'conf':
      case 'noop':
        return this.kv.noop();
      case 'kv':
        return this.kv.applyCommand(body);
      case 'members':
        return this.applyMemberCommand(body);
      case 'credentials':
        return this.applyCredentialCommand(body);
      case 'workload':
        return this.applyWorkloadCommand(body);
      case 'fencing': {
        const command = decodeJsonCommand(body, isFencingCommand, 'fencing');
        return 'op' in command ? this.fencing.apply(command) : command;
      }
      case 'unknown':
        return kvFailure('bad_command', `unknown command tag ${entry.data[0]}`);
    }
  }

  /**
   * Layout: [u32 length of the cluster JSON][cluster JSON][KV snapshot], where the cluster JSON
   * is {"members": [[id, peerAddress, apiAddress], ...], "credentials": {...}, "workload":
   * {...}, "fencing": {...}} (older snapshots lack "workload" or "fencing"). Members and nodes come in id
   * order, tokens in creation order and allocations in placement order, so equal states give
   * equal bytes (replicas are compared by snapshot bytes).
   */
  snapshot(): Uint8Array {
    return this.kv.snapshot(this.clusterTables());
  }

  /** The tables are small and encoded at once; the KV part in slices (KvStateMachine). */
  snapshotInBackground(): AsyncIterable<Uint8Array> {
    return this.kv.snapshotInBackground(this.clusterTables());
  }

  /** [u32 length][cluster JSON]: what goes in front of the KV snapshot. */
  private clusterTables(): Buffer {
    const cluster = {
      members: this.members.list().map((m) => [m.id, m.peerAddress, m.apiAddress, ...memberFlags(m)]),
      credentials: this.credentials.state(),
      workload: this.workload.state(),
      fencing: this.fencing.state(),
    };
    const json = Buffer.from(JSON.stringify(cluster));
    const tables = Buffer.allocUnsafe(4 + json.byteLength);
    tables.writeUInt32BE(json.byteLength, 0);
    json.copy(tables, 4);
    return tables;
  }

  restore(data: Uint8Array): void {
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    assert(bytes.byteLength >= 4, 'snapshot: too short for a member table');
    const length = bytes.readUInt32BE(0);
    assert(4 + length <= bytes.byteLength, 'snapshot: member table overruns the data');
    const cluster = JSON.parse(bytes.subarray(4, 4 + length).toString('utf8')) as { members?: unknown; credentials?: CredentialState; workload?: WorkloadState; fencing?: FencingState };
    const rows = cluster.members;
    assert(Array.isArray(rows), 'snapshot: member table is not a list');
    assert(typeof cluster.credentials === 'object', 'snapshot: no credentials table');
    const members = rows.map((row: unknown): Member => {
      assert(Array.isArray(row) && row.length >= 3 && row.every((field) => typeof field === 'string'), 'snapshot: malformed member row');
      const [id, peerAddress, apiAddress, ...flags] = row;
      assert(id !== undefined && peerAddress !== undefined && apiAddress !== undefined && flags.every((flag) => flag === 'keep-odd' || flag === 'arbiter'), 'snapshot: malformed member row');
      return { id, peerAddress, apiAddress, ...(flags.includes('keep-odd') ? { promotion: 'keep-odd' as const } : {}), ...(flags.includes('arbiter') ? { arbiter: true as const } : {}) };
    });
    this.kv.restore(data.subarray(4 + length));
    this.members.replace(members);
    this.credentials.replace(cluster.credentials);
    this.workload.replace(cluster.workload ?? { nodes: [], jobs: [], allocations: [], seq: 0 });
    this.fencing.replace(cluster.fencing);
  }

  private applyWorkloadCommand(body: Uint8Array): ClusterApplyResult {
    const command = decodeJsonCommand(body, isWorkloadCommand, 'workload');
    return 'op' in command ? this.workload.apply(command) : command;
  }

  private applyCredentialCommand(body: Uint8Array): ClusterApplyResult {
    const command = decodeJsonCommand(body, isCredentialCommand, 'credential');
    return 'op' in command ? this.credentials.apply(command) : command;
  }

  private applyMemberCommand(body: Uint8Array): ClusterApplyResult {
    const command = decodeJsonCommand(body, isMemberSet, 'member');
    return 'op' in command ? this.members.set(command) : command;
  }
}

/** Member and credential commands are JSON; a malformed one is a typed failure on every replica alike. */
function decodeJsonCommand<T extends { readonly op: string }>(body: Uint8Array, isCommand: (value: unknown) => value is T, what: string): T | KvFailure {
  let command: unknown;
  try {
    command = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return kvFailure('bad_command', `malformed ${what} command: not JSON`);
  }
  return isCommand(command) ? command : kvFailure('bad_command', `malformed ${what} command`);
}

function isMemberSet(value: unknown): value is MemberSetRequest {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    record.op === 'memberSet' &&
    typeof record.id === 'string' &&
    typeof record.peerAddress === 'string' &&
    typeof record.apiAddress === 'string' &&
    (record.promotion === undefined || record.promotion === 'keep-odd') &&
    (record.arbiter === undefined || record.arbiter === true)
  );
}

/** A member row's optional flags after its addresses (rows of older snapshots have none or 'keep-odd'). */
function memberFlags(member: Member): string[] {
  return [...(member.promotion === undefined ? [] : [member.promotion]), ...(member.arbiter === true ? ['arbiter'] : [])];
}
