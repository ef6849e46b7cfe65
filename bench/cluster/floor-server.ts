/**
 * `node dist/bench/cluster/floor-server.js HOST PORT`: the floor of the cluster benchmark's
 * `--client etcd` mode. It serves etcdserverpb.KV's Put and Range on grpc-js with the options
 * Quorate's own gRPC server uses, and answers each at once with a fixed response of the real
 * shape (a header, and for a Range the one key asked for with a 256-byte value): no Raft, no
 * disk, no state. Driven by the same client, it shows what the client, grpc-js and the loopback
 * cost per request on this machine, which every server measured here pays before doing any work.
 */
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { etcdServices } from '../../src/grpc/protocol.js';
import type { PutRequestMessage, RangeRequestMessage, RangeResponseMessage, ResponseHeader } from '../../src/grpc/messages.js';
import { valueBytes } from './workloads.js';

const [host, port] = process.argv.slice(2);
if (host === undefined || port === undefined) {
  process.stderr.write('usage: floor-server HOST PORT\n');
  process.exit(2);
}

const header: ResponseHeader = { cluster_id: '1', member_id: '1', revision: '10000', raft_term: '2' };
const value = Buffer.alloc(valueBytes, 0x61);
const server = new Server({ 'grpc.enable_channelz': 0 });
server.addService(etcdServices.kv, {
  Range(call: ServerUnaryCall<RangeRequestMessage, RangeResponseMessage>, respond: sendUnaryData<RangeResponseMessage>) {
    const kv = { key: call.request.key, value, create_revision: '1', mod_revision: '10000', version: '2', lease: '0' };
    respond(null, { header, kvs: [kv], more: false, count: '1' });
  },
  Put(_call: ServerUnaryCall<PutRequestMessage, { header: ResponseHeader }>, respond: sendUnaryData<{ header: ResponseHeader }>) {
    respond(null, { header });
  },
});
server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error) => {
  if (error !== null) {
    process.stderr.write(`floor-server: cannot listen on ${host}:${port}: ${error.message}\n`);
    process.exit(1);
  }
});
