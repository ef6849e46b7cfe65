/**
 * The etcd v3 conformance suite (issue 11): the same cases, through Debian's `etcdctl` and the
 * `etcd3` npm client, run against a real 3-node etcd 3.4 cluster (127.0.71.1-3, plain HTTP)
 * and against a real 3-node Quorate cluster (127.0.72.1-3, gRPC on port 2379 over TLS with a
 * token). Both must pass: a case that only Quorate passes checks Quorate against itself, not
 * against etcd. targets.ts holds the only differences, how a client connects.
 *
 * Needs `etcd` and `etcdctl` on the PATH (Debian's etcd-server and etcd-client; .ci/run
 * installs them). QUORATE_CONFORMANCE_TARGET=etcd or =quorate runs one side alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { etcd3Cases } from './etcd3-cases.js';
import { etcdctl } from './etcdctl.js';
import { etcdctlCases } from './etcdctl-cases.js';
import { etcdTarget, quorateTarget, type Target, type TargetSpec } from './targets.js';

/** Waits until every member answers a linearizable read through etcdctl. */
async function waitServing(target: Target, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const endpoint of target.endpoints) {
    for (;;) {
      const result = await etcdctl(target, ['get', 'health'], { endpoints: [endpoint] });
      if (result.code === 0) break;
      if (Date.now() > deadline) throw new Error(`${target.name}: ${endpoint} does not serve within ${timeoutMs} ms: ${result.stderr}`);
      await sleep(200);
    }
  }
}

function suite(spec: TargetSpec): void {
  describe(spec.name, { timeout: 120_000 }, () => {
    let started: Target | null = null;
    before(async () => {
      started = await spec.start();
      await waitServing(started);
    });
    after(async () => {
      await started?.stop();
    });
    const target = (): Target => {
      assert.ok(started !== null, `${spec.name} did not start`);
      return started;
    };
    etcdctlCases(target);
    etcd3Cases(target);
  });
}

// QUORATE_CONFORMANCE_TARGET=etcd (or quorate) runs one side alone, e.g. to check a new case on etcd first.
const only = process.env.QUORATE_CONFORMANCE_TARGET;
for (const spec of [etcdTarget, quorateTarget]) if (only === undefined || spec.name.toLowerCase().startsWith(only.toLowerCase())) suite(spec);
