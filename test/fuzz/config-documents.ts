/**
 * The server's TOML config (src/server/config.ts parseServerConfig and loadServerConfig) as a
 * fuzz target. Valid documents use `cluster_secret`, never `cluster_secret_file`, so that no
 * property reads a file it did not write; relative paths resolve under a directory that does
 * not exist.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadServerConfig, parseServerConfig, type ServerConfig } from '../../src/server/config.js';
import type { DocumentTarget } from './documents.js';
import { objectOf } from './job-documents.js';

const baseDir = join(tmpdir(), 'quorate-fuzz-config-base-never-created');

const nodeId = fc.oneof(fc.nat({ max: 99 }), fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/));
const address = fc.tuple(fc.nat({ max: 255 }), fc.integer({ min: 1, max: 65535 })).map(([host, port]) => `127.0.0.${host}:${port}`);

/** The node itself and up to three others, at distinct addresses and with distinct ids. */
const members = fc.uniqueArray(fc.tuple(nodeId, address), { minLength: 1, maxLength: 4, selector: ([id]) => String(id) }).filter((list) => new Set(list.map(([, a]) => a)).size === list.length);

const validConfig: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(members, fc.integer({ min: 5, max: 1000 }), fc.integer({ min: 2, max: 10 }))
  .chain(([list, heartbeat, factor]) => {
    const [self] = list;
    assert.ok(self !== undefined);
    return objectOf(
      {
        node_id: fc.constant(self[0]),
        listen_address: fc.constant(self[1]),
        initial_cluster: fc.constant(list.map(([id, peer], i) => ({ id, address: peer, role: i === 0 ? 1 : 3 }))),
        db_root_dir: fc.string({ minLength: 1, maxLength: 10 }),
        cluster_secret: fc.string({ minLength: 16, maxLength: 24 }),
        cluster_name: fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
        write_quorum: fc.constantFrom('majority', 'all'),
        heartbeat_interval_ms: fc.constant(heartbeat),
        election_timeout_ms: fc.constant(Math.max(20, heartbeat * factor)),
        run_jobs: fc.boolean(),
        labels: fc.dictionary(fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/).filter((k) => k !== '__proto__'), fc.string({ maxLength: 8 }), { maxKeys: 2, noNullPrototype: true }),
      },
      // Both timings or neither: alone, one may break the rule that relates them.
      ['node_id', 'listen_address', 'initial_cluster', 'db_root_dir', 'cluster_secret', 'heartbeat_interval_ms', 'election_timeout_ms'],
    ).map((cluster) => ({ cluster }));
  });

function checkConfig(doc: Record<string, unknown>, result: unknown): void {
  const config = result as ServerConfig;
  const cluster = doc['cluster'] as Record<string, unknown>;
  assert.equal(config.nodeId, String(cluster['node_id']));
  assert.equal(`${config.listen.host}:${config.listen.port}`, cluster['listen_address']);
  assert.equal(config.initialCluster.length, (cluster['initial_cluster'] as unknown[]).length);
  assert.deepEqual(config.tls, { kind: 'secret', secret: cluster['cluster_secret'] });
  assert.equal(config.writeQuorum, cluster['write_quorum'] ?? 'majority');
  assert.deepEqual(config.labels, cluster['labels'] ?? {});
}

export const configTarget: DocumentTarget = {
  what: 'server config',
  code: 'invalid_config',
  valid: validConfig,
  // The tables' keys too: TOML-ish text puts them under [cluster] and [tls].
  keys: ['cluster', 'tls', 'node_id', 'listen_address', 'advertise_address', 'api_address', 'initial_cluster', 'db_root_dir', 'cluster_secret', 'write_quorum', 'election_timeout_ms', 'labels', 'ca_file'],
  tables: ['cluster', 'tls', 'cluster.labels', 'cluster.initial_cluster'],
  parse: (document) => Promise.resolve(parseServerConfig(document, baseDir, 'quorate.toml')),
  load: (path) => Promise.resolve(loadServerConfig(path)),
  check: checkConfig,
  multiTyped: ['node_id', 'id'],
};
