/**
 * A data directory whose secrets others can read is refused before a node starts, with the
 * chmod that fixes it; `quorate server` says so and exits 1.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DataDir } from '../../src/cluster/data-dir.js';
import { runCli } from '../cli/run-cli.js';

test('keys, tokens and the directory must be private to the service user', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'quorate-datadir-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const dir = new DataDir(join(root, 'node'));
  await dir.create(
    { nodeId: 'node-1', clusterId: '0123456789abcdef', clusterName: 'quorate', role: 'server', advertise: '127.0.0.1', apiPort: 8080, peerPort: 8081, labels: {} },
    { caCertPem: 'ca', caKeyPem: 'ca key', nodeCertPem: 'cert', nodeKeyPem: 'key' },
    'admin token',
  );
  await dir.assertPrivate();
  await chmod(dir.nodeKeyPath, 0o644);
  await chmod(dir.adminTokenPath, 0o640);
  await assert.rejects(dir.assertPrivate(), (error: Error) => {
    assert.match(error.message, /others can read this node's secrets/);
    assert.match(error.message, new RegExp(`${dir.nodeKeyPath.replace(/[.]/g, '\\.')} is mode 644: chmod 600`));
    assert.match(error.message, /admin\.token is mode 640: chmod 600/);
    return true;
  });
  const refused = await runCli(['--data-dir', dir.path, 'server']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error: others can read this node's secrets; fix it and start again: .*node\.key is mode 644: chmod 600/);
  await chmod(dir.nodeKeyPath, 0o600);
  await chmod(dir.adminTokenPath, 0o600);
  await chmod(dir.path, 0o755);
  await assert.rejects(dir.assertPrivate(), /node is mode 755: chmod 700/);
});
