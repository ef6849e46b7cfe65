/**
 * A node's report (peer RPC `node.report`) across versions: a joining node adds the bytes of the
 * snapshot it is receiving only while one is on its way; a report without the field (an older
 * node) still parses, and one with it keeps it, so that `cluster join` can show the transfer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localReport, parseNodeReport } from '../../src/server/cluster-status.js';
import type { NodeStatus } from '../../src/server/service.js';

const status = { id: 'node-4', role: 'learner', term: 3, leader: 'node-1', commitIndex: 0, appliedIndex: 0 } as unknown as NodeStatus;
const tls = { certificateNotAfter: '2030-01-01T00:00:00.000Z', certificateIssuer: null, trustedCas: ['sha256:aa'], caNotAfter: '2035-01-01T00:00:00.000Z' };

test('the snapshot progress is in the report only while a snapshot arrives, and survives parsing', () => {
  const idle = localReport(status, tls, false, null);
  assert.equal('snapshotReceiving' in idle, false);
  assert.equal(parseNodeReport(idle, 'node-4').snapshotReceiving, undefined, 'a report without it (an older node) parses');
  const receiving = localReport(status, tls, false, { receivedBytes: 4096, totalBytes: 10_000 });
  assert.deepEqual(parseNodeReport(receiving, 'node-4').snapshotReceiving, { receivedBytes: 4096, totalBytes: 10_000 });
  assert.throws(() => parseNodeReport({ ...receiving, snapshotReceiving: { receivedBytes: 'lots' } }, 'node-4'), /malformed report/);
});
