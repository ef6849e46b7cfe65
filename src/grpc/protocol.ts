/**
 * The etcd v3 protocol definitions (proto/, written for Quorate from the public wire
 * specification), loaded once at run time. Loader options fix the JavaScript shapes every
 * handler relies on (messages.ts): snake_case field names as in the .proto files, int64 and
 * uint64 as decimal strings (revisions and lease ids may exceed 2^53 on the wire), bytes as
 * Buffers, enums as their names, absent fields filled with defaults, and a string naming the
 * member set in each oneof.
 */
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type GrpcObject, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/** proto/ at the package root: tsc does not copy .proto files, so they are found from here (dist/src/grpc). */
const protoRoot = fileURLToPath(new URL('../../../proto/', import.meta.url));

const definition = loadSync('etcdserverpb/rpc.proto', {
  includeDirs: [protoRoot],
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
});

const root = loadPackageDefinition(definition);

function service(name: string): ServiceDefinition {
  const pkg = root.etcdserverpb as GrpcObject;
  const constructor = pkg[name] as { service?: ServiceDefinition } | undefined;
  if (constructor?.service === undefined) throw new Error(`proto/etcdserverpb/rpc.proto defines no service ${name}`);
  return constructor.service;
}

/** The services clients call, by their etcd names (etcdserverpb.KV ...). */
export const etcdServices = {
  kv: service('KV'),
  watch: service('Watch'),
  lease: service('Lease'),
  cluster: service('Cluster'),
  maintenance: service('Maintenance'),
  auth: service('Auth'),
} as const;

/** Client constructors for tests and tools (the same definitions, loaded once). */
export const etcdPackage = root.etcdserverpb as GrpcObject;
