/**
 * The fault-injection suite's network nemesis does what it says, with real sockets and real
 * packet filtering: inside a private network namespace, a one-way cut from 127.0.0.1 to
 * 127.0.0.2 stops connections between them (the handshake needs both directions) while
 * 127.0.0.3 still reaches 127.0.0.2; a partition {1} | {2, 3} separates exactly those groups
 * and leaves the clients' address able to reach every node; healing restores every link.
 * Needs root and nftables (`.ci/run` installs it).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runInPrivateNetwork } from './network.js';

const probe = fileURLToPath(new URL('./network-probe.js', import.meta.url));

test('cuts, partitions and heals links between node addresses', async () => {
  const child = runInPrivateNetwork(probe, []);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 0, `the probe failed: ${stderr}`);
  const result = JSON.parse(stdout) as Record<string, Record<string, string>>;
  const all = (outcome: string) => ({
    '127.0.0.1->127.0.0.2': outcome,
    '127.0.0.2->127.0.0.1': outcome,
    '127.0.0.3->127.0.0.2': 'ok',
    '127.0.0.2->127.0.0.3': 'ok',
    '127.0.0.250->127.0.0.1': 'ok',
    '127.0.0.250->127.0.0.2': 'ok',
  });
  assert.deepEqual(result.before, all('ok'));
  assert.deepEqual(result.oneWay, all('timeout'), 'a one-way cut stops TCP both ways; other links are untouched');
  assert.deepEqual(result.partition, all('timeout'), 'node 1 is cut from 2 and 3; 2 and 3 and the clients are not');
  assert.deepEqual(result.healed, all('ok'));
});
