/**
 * A node that is joining and has not received the cluster state cannot check tokens: the etcd
 * API answers UNAVAILABLE (which etcd clients retry, on this or another endpoint) and counts no
 * failed attempt, so the address is not locked out once the node has caught up. The state is
 * the real one of such a node: an empty ClusterStateMachine under a real AccessControl.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { credentials, status, type Client } from '@grpc/grpc-js';
import { etcdPackage, startGrpcServer } from '../../src/grpc/index.js';
import { AccessControl } from '../../src/server/access.js';
import { ClusterStateMachine } from '../../src/state/index.js';
import { silentLogger } from '../../src/util/log.js';
import { overriding } from '../api/overriding-service.js';
import { SingleNode } from '../api/single-node.js';
import { call, failure } from './grpc-node.js';

test('a joining node answers UNAVAILABLE to tokens it cannot check yet, and never locks the caller out', async () => {
  const single = await SingleNode.start();
  const access = new AccessControl({ state: new ClusterStateMachine(), propose: () => Promise.reject(new Error('not used')), now: () => 0 });
  const service = overriding(single.node.service, { authenticate: (token) => access.authenticate(token) });
  const grpc = await startGrpcServer({ host: '127.0.0.1', port: 0, node: () => single.node, service: () => service, log: silentLogger });
  const KV = etcdPackage.KV as unknown as new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client;
  const kv = new KV(grpc.address, credentials.createInsecure());
  try {
    // More than the 20 failed attempts that would block the address.
    for (let i = 0; i < 25; i++) {
      const refused = await failure(call(kv, 'Range', { key: Buffer.from('k') }));
      assert.equal(refused.code, status.UNAVAILABLE, `call ${i + 1}: ${refused.details}`);
      assert.match(refused.details, /has not received the cluster state yet/);
    }
  } finally {
    kv.close();
    await grpc.close();
    await single.stop();
  }
});
