/**
 * How a founder with an empty data directory decides between founding and joining (formation.ts),
 * with the peers' hello answers given by the test: it founds only once a majority of founders
 * has answered without belonging to a formed cluster, even when the config names every id; and
 * a peer that belongs to a formed cluster without it (it was removed, then wiped) makes it join.
 * The real-process version is test/e2e/static-membership.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialState, type Hello } from '../../src/server/formation.js';
import { parseServerConfig } from '../../src/server/index.js';
import { silentLogger } from '../../src/util/log.js';

const config = parseServerConfig(
  {
    cluster: {
      node_id: 3,
      listen_address: '127.0.0.3:8081',
      initial_cluster: [1, 2, 3].map((id) => ({ id, address: `127.0.0.${id}:8081`, role: 1, status: 2 })),
      db_root_dir: '/nonexistent',
      cluster_secret: '0123456789abcdef',
    },
  },
  '/',
);

const fresh = (id: string): Hello => ({ id, bootstrapped: false, members: [] });
const idOf = (address: string): string => address.slice('127.0.0.'.length, address.indexOf(':'));

test('a founder waits for a majority of founders before writing the bootstrap state', async () => {
  const asked: string[] = [];
  const state = await initialState(
    config,
    (address) => {
      asked.push(address);
      // Node 1 is down for good; node 2 answers from its third attempt on.
      if (address.startsWith('127.0.0.1:') || asked.filter((a) => a === address).length < 3) return Promise.reject(new Error('refused'));
      return Promise.resolve(fresh(idOf(address)));
    },
    silentLogger,
  );
  assert.deepEqual(state.snapshot?.meta.conf.voters, ['1', '2', '3']);
  assert.ok(asked.filter((a) => a.startsWith('127.0.0.2:')).length >= 3, 'it did not found before node 2 answered');
});

test('a founder whose peers formed a cluster without it joins instead', async () => {
  const state = await initialState(config, (address) => Promise.resolve({ id: idOf(address), bootstrapped: true, members: ['1', '2'] }), silentLogger);
  assert.equal(state.snapshot, null);
  assert.equal(state.hardState.term, 0);
});
