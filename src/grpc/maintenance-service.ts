/**
 * etcdserverpb.Maintenance: Status as etcd reports it (what `etcdctl endpoint status` prints),
 * an empty alarm list (`etcdctl endpoint health` counts an endpoint healthy only when its alarm
 * list is empty, and Quorate raises no etcd alarms), and a clear UNIMPLEMENTED for the methods
 * that manage etcd's bbolt database or have a Quorate command of their own.
 *
 * Status's version is "3.4.0+quorate.<version>": clients that look at the version see the etcd
 * API level Quorate speaks, and people see which Quorate answers. dbSize is the bytes the node
 * keeps on disk for the replicated state (its WAL segments and snapshots), the nearest thing to
 * etcd's database file.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { status, type sendUnaryData, type Server, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { version } from '../util/version.js';
import type { GrpcContext, ServiceRegistrar } from './context.js';
import { GrpcError } from './errors.js';
import { memberIdOf } from './ids.js';
import { etcdServices } from './protocol.js';
import type { Long, ResponseHeader } from './messages.js';

export const etcdApiVersion = `3.4.0+quorate.${version}`;

interface StatusResponse {
  readonly header: ResponseHeader;
  readonly version: string;
  readonly dbSize: Long;
  readonly dbSizeInUse: Long;
  readonly leader: Long;
  readonly raftIndex: Long;
  readonly raftTerm: Long;
  readonly raftAppliedIndex: Long;
  readonly errors: readonly string[];
  readonly isLearner: boolean;
}

interface AlarmRequest {
  readonly action: 'GET' | 'ACTIVATE' | 'DEACTIVATE';
}

interface AlarmResponse {
  readonly header: ResponseHeader;
  readonly alarms: readonly never[];
}

/** The storage's directories (storage/disk-storage.ts): the log segments and the snapshots. */
const stateDirs = ['wal', 'snap'];

async function stateBytes(dataDir: string): Promise<number> {
  let total = 0;
  for (const dir of stateDirs) {
    const names = await readdir(join(dataDir, dir)).catch(() => []);
    for (const name of names) total += (await stat(join(dataDir, dir, name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/** Why each method Quorate leaves out is left out, and what to use instead. */
const unimplemented = {
  Defragment: 'Quorate has no etcd database to defragment: its state lives in memory, persisted by a WAL and snapshots that it compacts itself',
  Hash: "Quorate does not compute etcd's database hash; compare members with `quorate cluster status` (applied index and revision)",
  HashKV: "Quorate does not compute etcd's KV hash; compare members with `quorate cluster status` (applied index and revision)",
  Snapshot: "Quorate's backups are not etcd database files: use `quorate snapshot save` (GET /v1/snapshot)",
  MoveLeader: 'Quorate moves leadership itself (on SIGTERM and `quorate cluster leave`); it takes no MoveLeader requests',
  Downgrade: 'Quorate has no etcd storage versions to downgrade',
} as const;

function refuse(method: keyof typeof unimplemented): GrpcError {
  return new GrpcError(status.UNIMPLEMENTED, `etcdserverpb.Maintenance/${method}: ${unimplemented[method]}`);
}

function handlers(context: GrpcContext): UntypedServiceImplementation {
  const refusals = Object.fromEntries(
    (Object.keys(unimplemented) as (keyof typeof unimplemented)[]).map((method) => [
      method,
      method === 'Snapshot'
        ? // grpc-js turns an 'error' on a server stream into the call's status.
          (call: ServerWritableStream<unknown, unknown>) => call.emit('error', refuse(method))
        : (_call: unknown, callback: sendUnaryData<unknown>) => callback(refuse(method)),
    ]),
  );
  return {
    ...refusals,
    Status: context.unary<unknown, StatusResponse>('read', async () => {
      const node = context.node();
      const own = context.service().status();
      const bytes = await stateBytes(node.config.dataDir);
      return {
        header: context.header(),
        version: etcdApiVersion,
        dbSize: bytes,
        dbSizeInUse: bytes,
        leader: own.leader === null ? '0' : memberIdOf(own.leader),
        raftIndex: own.commitIndex,
        raftTerm: own.term,
        raftAppliedIndex: own.appliedIndex,
        errors: [],
        isLearner: own.role === 'learner',
      };
    }),
    Alarm: context.unary<AlarmRequest, AlarmResponse>('read', (request) => {
      if (request.action !== 'GET') return Promise.reject(new GrpcError(status.UNIMPLEMENTED, 'etcdserverpb.Maintenance/Alarm: Quorate raises no etcd alarms, so there are none to activate or deactivate'));
      return Promise.resolve({ header: context.header(), alarms: [] });
    }),
  };
}

/** Adds etcdserverpb.Maintenance to `server`. */
export const registerMaintenanceService: ServiceRegistrar = (server: Server, context: GrpcContext) => {
  server.addService(etcdServices.maintenance, handlers(context));
};
