/**
 * The etcd Watch, Lease and Auth services against a real single node, through grpc-js clients:
 * watches from a revision with prev_kv and filters, several watches on one stream, cancel,
 * progress (requested and periodic), compacted start revisions; lease grant, keep-alive stream,
 * time-to-live with keys, leases, revoke; Authenticate and the token checks.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { Metadata, status, type Client, type ClientDuplexStream } from '@grpc/grpc-js';
import { singleNodeAdminToken } from '../api/single-node.js';
import { call, failure, GrpcNode, tokenMetadata } from './grpc-node.js';

let node: GrpcNode;
let kv: Client;
const b = (text: string): Buffer => Buffer.from(text);

before(async () => {
  node = await GrpcNode.start({ progressIntervalMs: 200 });
  kv = node.client('KV');
});

after(async () => {
  kv.close();
  await node.stop();
});

interface WatchAnswer {
  watch_id: string;
  created: boolean;
  canceled: boolean;
  compact_revision: string;
  header: { revision: string };
  events: { type: string; kv: { key: Buffer; value: Buffer }; prev_kv: { value: Buffer } | null }[];
}

type Stream<Req, Res> = ClientDuplexStream<Req, Res>;

/** A stream and a way to await its next response matching `match`. */
function open<Res>(client: Client, method: string, metadata: Metadata = tokenMetadata()): { stream: Stream<object, Res>; next: (match?: (r: Res) => boolean) => Promise<Res> } {
  const stream = (client as unknown as Record<string, (m: Metadata) => Stream<object, Res>>)[method]?.call(client, metadata);
  if (stream === undefined) throw new Error(`no method ${method}`);
  const queue: Res[] = [];
  const waiters: (() => void)[] = [];
  stream.on('data', (response: Res) => {
    queue.push(response);
    for (const wake of waiters.splice(0)) wake();
  });
  stream.on('error', () => undefined);
  const next = async (match: (r: Res) => boolean = () => true): Promise<Res> => {
    for (;;) {
      const index = queue.findIndex(match);
      if (index >= 0) return queue.splice(index, 1)[0] as Res;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { stream, next };
}

test('watch: history from a revision, live events, several watches, cancel, progress', async () => {
  const first = await call<{ header: { revision: string } }>(kv, 'Put', { key: b('w/a'), value: b('1') });
  await call(kv, 'Put', { key: b('w/a'), value: b('2') });
  const watchClient = node.client('Watch');
  const { stream, next } = open<WatchAnswer>(watchClient, 'Watch');
  stream.write({ create_request: { key: b('w/'), range_end: b('w0'), start_revision: first.header.revision, prev_kv: true } });
  const created = await next();
  assert.deepEqual([created.created, created.watch_id], [true, '0']);
  const history = await next((r) => r.events.length > 0);
  assert.deepEqual(history.events.map((e) => e.kv.value.toString()), ['1', '2']);
  assert.equal(history.events[1]?.prev_kv?.value.toString(), '1');
  stream.write({ create_request: { key: b('w/b'), watch_id: 7, filters: ['NODELETE'], progress_notify: true } });
  assert.equal((await next((r) => r.created)).watch_id, '7');
  await call(kv, 'Put', { key: b('w/b'), value: b('x') });
  await call(kv, 'DeleteRange', { key: b('w/b') });
  const live = await next((r) => r.watch_id === '7' && r.events.length > 0);
  assert.deepEqual(live.events.map((e) => e.type), ['PUT']);
  const deleted = await next((r) => r.watch_id === '0' && r.events.some((e) => e.type === 'DELETE'));
  assert.equal(deleted.events[0]?.kv.key.toString(), 'w/b');
  // Periodic progress for watch 7 (progressIntervalMs is 200 here), and one on request.
  const periodic = await next((r) => r.watch_id === '7' && r.events.length === 0 && !r.created);
  assert.ok(Number(periodic.header.revision) >= 1);
  stream.write({ progress_request: {} });
  await next((r) => r.watch_id === '-1');
  stream.write({ cancel_request: { watch_id: 7 } });
  assert.equal((await next((r) => r.canceled)).watch_id, '7');
  stream.end();
  watchClient.close();
});

test('watch from a compacted revision is created, then canceled with compact_revision', async () => {
  await call(kv, 'Put', { key: b('wc'), value: b('1') });
  const put = await call<{ header: { revision: string } }>(kv, 'Put', { key: b('wc'), value: b('2') });
  await call(kv, 'Compact', { revision: put.header.revision });
  const watchClient = node.client('Watch');
  const { stream, next } = open<WatchAnswer>(watchClient, 'Watch');
  stream.write({ create_request: { key: b('wc'), start_revision: 1 } });
  const canceled = await next((r) => r.canceled);
  assert.equal(canceled.compact_revision, put.header.revision);
  stream.end();
  watchClient.close();
});

test('leases: grant, keep-alive, time-to-live, leases, revoke', async () => {
  const lease = node.client('Lease');
  const granted = await call<{ ID: string; TTL: string }>(lease, 'LeaseGrant', { TTL: 30 });
  assert.equal(granted.TTL, '30');
  await call(kv, 'Put', { key: b('l/k'), value: b('v'), lease: granted.ID });
  const { stream, next } = open<{ ID: string; TTL: string }>(lease, 'LeaseKeepAlive');
  stream.write({ ID: granted.ID });
  const kept = await next();
  assert.deepEqual([kept.ID, kept.TTL], [granted.ID, '30']);
  stream.write({ ID: 424242 });
  assert.equal((await next()).TTL, '0');
  stream.end();
  await once(stream, 'end');
  const ttl = await call<{ TTL: string; grantedTTL: string; keys: Buffer[] }>(lease, 'LeaseTimeToLive', { ID: granted.ID, keys: true });
  assert.deepEqual([ttl.grantedTTL, ttl.keys.map(String)], ['30', ['l/k']]);
  const leases = await call<{ leases: { ID: string }[] }>(lease, 'LeaseLeases', {});
  assert.ok(leases.leases.some((l) => l.ID === granted.ID));
  await call(lease, 'LeaseRevoke', { ID: granted.ID });
  const gone = await call<{ kvs: unknown[] }>(kv, 'Range', { key: b('l/k') });
  assert.equal(gone.kvs.length, 0);
  assert.equal((await call<{ TTL: string }>(lease, 'LeaseTimeToLive', { ID: granted.ID })).TTL, '-1');
  const missing = await failure(call(lease, 'LeaseRevoke', { ID: granted.ID }));
  assert.deepEqual([missing.code, missing.details], [status.NOT_FOUND, 'etcdserver: requested lease not found']);
  lease.close();
});

test('auth: Authenticate trades a token for itself; calls check the token metadata and role', async () => {
  const auth = node.client('Auth');
  const login = await call<{ token: string }>(auth, 'Authenticate', { name: 'quorate', password: singleNodeAdminToken }, new Metadata());
  assert.equal(login.token, singleNodeAdminToken);
  const wrong = await failure(call(auth, 'Authenticate', { name: 'quorate', password: 'not-a-token' }, new Metadata()));
  assert.deepEqual([wrong.code, wrong.details], [status.INVALID_ARGUMENT, 'etcdserver: authentication failed, invalid user ID or password']);
  const none = await failure(call(kv, 'Range', { key: b('x') }, new Metadata()));
  assert.deepEqual([none.code, none.details], [status.INVALID_ARGUMENT, 'etcdserver: user name is empty']);
  const invalid = await failure(call(kv, 'Range', { key: b('x') }, tokenMetadata('bogus')));
  assert.deepEqual([invalid.code, invalid.details], [status.UNAUTHENTICATED, 'etcdserver: invalid auth token']);
  const { token } = await node.single.node.service.createAclToken('read', 'app/');
  await call(kv, 'Range', { key: b('app/x') }, tokenMetadata(token));
  const outside = await failure(call(kv, 'Range', { key: b('other') }, tokenMetadata(token)));
  assert.deepEqual([outside.code, outside.details], [status.PERMISSION_DENIED, 'etcdserver: permission denied']);
  const write = await failure(call(kv, 'Put', { key: b('app/x'), value: b('v') }, tokenMetadata(token)));
  assert.equal(write.code, status.PERMISSION_DENIED);
  auth.close();
});
