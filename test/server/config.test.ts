/**
 * The TOML config of a static bootstrap (seed 002): a valid file becomes a typed config, and
 * every mistake is refused with a message naming the field and what is wrong. Files are real
 * files in a temp directory, read through loadServerConfig as `quorate server --config` does.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadServerConfig } from '../../src/server/index.js';
import { isQuorateError } from '../../src/util/errors.js';

const valid = `
[cluster]
node_id = 2
listen_address = "127.0.0.2:8081"
initial_cluster = [
  { id = 1, address = "127.0.0.1:8081", role = 2, status = 2 },
  { id = 2, address = "127.0.0.2:8081", role = 1, status = 2 },
  { id = 3, address = "127.0.0.3:8081", role = 3, status = 0 },
]
db_root_dir = "./db"
cluster_secret = "0123456789abcdef"
`;

async function load(text: string): Promise<ReturnType<typeof loadServerConfig>> {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-config-'));
  try {
    await writeFile(join(dir, 'n.toml'), text);
    return loadServerConfig(join(dir, 'n.toml'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function refused(text: string, pattern: RegExp): Promise<void> {
  await assert.rejects(load(text), (error: unknown) => {
    assert.ok(isQuorateError(error, 'invalid_config'), `expected invalid_config, got ${String(error)}`);
    assert.match(error.message, pattern);
    return true;
  });
}

test('a valid file gives typed fields, defaults and per-node data dirs', async () => {
  const config = await load(valid);
  assert.equal(config.nodeId, '2');
  assert.deepEqual(config.listen, { host: '127.0.0.2', port: 8081 });
  assert.deepEqual(config.api, { host: '127.0.0.2', port: 8080 });
  assert.match(config.dataDir, /db\/2$/);
  assert.equal(config.writeQuorum, 'majority');
  assert.equal(config.electionTimeoutMs, 300);
  assert.deepEqual(
    config.initialCluster.map((m) => [m.id, m.peerAddress, m.apiAddress, m.bootstrap]),
    [
      ['1', '127.0.0.1:8081', '127.0.0.1:8080', true],
      ['2', '127.0.0.2:8081', '127.0.0.2:8080', true],
      ['3', '127.0.0.3:8081', '127.0.0.3:8080', false],
    ],
  );
});

test('mistakes name the field and say what to do', async () => {
  await refused('[cluster]\nnode_id = ', /not valid TOML/);
  await refused(valid.replace('node_id = 2\n', ''), /cluster\.node_id/);
  await refused(valid.replace('listen_address = "127.0.0.2:8081"', 'listen_address = "nowhere:port"'), /cluster\.listen_address.*host:port/);
  await refused(valid.replace('node_id = 2', 'node_id = 9'), /initial_cluster: must list this node \(id 9\)/);
  await refused(valid.replace('cluster_secret = "0123456789abcdef"', ''), /cluster_secret/);
  await refused(valid.replace('[cluster]', '[cluster]\nelection_timeout_ms = 150'), /election_timeout_ms: must be at least twice/);
  await refused(valid.replace('write_quorum', 'x').replace('[cluster]', '[cluster]\nwrite_quorum = "some"'), /cluster\.write_quorum/);
  await refused(valid.replace('[cluster]', '[cluster]\nlisten_adress = "x"'), /listen_adress/);
  await refused(valid.replace('{ id = 3, address = "127.0.0.3:8081"', '{ id = 3, address = "127.0.0.1:8081"'), /address 127\.0\.0\.1:8081 appears twice/);
  await refused(valid.replace('listen_address = "127.0.0.2:8081"', 'listen_address = "0.0.0.0:8081"'), /advertise_address/);
});
