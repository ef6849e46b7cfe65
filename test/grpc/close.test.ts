/**
 * Closing the gRPC listener ends the connections of clients that are still connected, so a
 * server on SIGTERM can exit: grpc-js 1.14's forceShutdown() alone ends only the connections it
 * tracks for channelz, which Quorate turns off, and a connected etcd client kept the process
 * alive until systemd (or the bench) killed it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectivityState } from '@grpc/grpc-js';
import { call, GrpcNode } from './grpc-node.js';

test('close() ends the connections of connected clients', async () => {
  const node = await GrpcNode.start();
  const kv = node.client('KV');
  try {
    await call(kv, 'Range', { key: Buffer.from('k') });
    const channel = kv.getChannel();
    assert.equal(channel.getConnectivityState(false), connectivityState.READY);
    await node.grpc.close();
    const deadline = Date.now() + 2000;
    while (channel.getConnectivityState(false) === connectivityState.READY && Date.now() < deadline) await sleep(20);
    assert.notEqual(channel.getConnectivityState(false), connectivityState.READY, 'the client is still connected after close()');
  } finally {
    kv.close();
    await node.stop();
  }
});
