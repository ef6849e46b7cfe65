/**
 * The agent's HTTPS link: heartbeats leave from the node's advertise address (so a firewall rule
 * on that address cuts exactly this node's heartbeats, as it does its peer connections), and
 * from the system's choice when the address is not this machine's.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createCa, issueNodeCert } from '../../src/cluster/certs.js';
import { HttpLink, type HeartbeatRequest, type HeartbeatResponse } from '../../src/workload/index.js';

const answer: HeartbeatResponse = { leader: 'node-1', allocations: [], jobs: [], logReaders: { adminTokenHash: null, tokens: [] }, noQuorumPolicy: 'stop', servers: [] };
const request: HeartbeatRequest = {
  node: { id: 'node-9', role: 'worker', address: '127.0.0.2', apiAddress: '127.0.0.2:8080', watchdogTimeoutMs: 2000, labels: {}, memoryMb: 1024, cpu: 1 },
  freeMemoryMb: 512,
  reports: [],
};

/** Where one heartbeat came from, as the server saw it, with the link bound to `bind` (or not bound). */
async function heartbeatSource(bind: string | null): Promise<string | undefined> {
  const ca = await createCa('test CA');
  const server = await issueNodeCert(ca, { nodeId: 'node-1', ipAddresses: ['127.0.0.1'] });
  const client = await issueNodeCert(ca, { nodeId: 'node-9', ipAddresses: ['127.0.0.2'] });
  const seen: (string | undefined)[] = [];
  const https = createServer({ cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true }, (req, res) => {
    seen.push(req.socket.remoteAddress);
    req.resume();
    req.on('end', () => res.setHeader('content-type', 'application/json').end(JSON.stringify(answer)));
  });
  https.listen(0, '127.0.0.1');
  await once(https, 'listening');
  const link = new HttpLink({ servers: [`127.0.0.1:${(https.address() as AddressInfo).port}`], identity: () => ({ caPem: ca.certPem, certPem: client.certPem, keyPem: client.keyPem }), timeoutMs: 2000 });
  try {
    if (bind !== null) link.bindTo(bind);
    assert.deepEqual(await link.heartbeat(request), answer);
    return seen[0];
  } finally {
    link.close();
    https.closeAllConnections();
    https.close();
  }
}

test('heartbeats leave from the advertise address, so a rule on it cuts them', { skip: process.platform !== 'linux' && 'needs 127.0.0.2 on loopback (Linux)' }, async () => {
  assert.equal(await heartbeatSource('127.0.0.2'), '127.0.0.2');
  assert.equal(await heartbeatSource(null), '127.0.0.1', 'unbound, the system picks the source');
});

test('an advertise address that is not this machine\'s is not bound: heartbeats still go out', async () => {
  assert.equal(await heartbeatSource('203.0.113.9'), '127.0.0.1');
});
