/**
 * A worker's own listener (api/agent-api.ts) over real HTTPS: its allocation logs go to the admin
 * token and to the operator and admin API tokens the leader last listed, by hash; no token is
 * 401, any other token (a write-role API token, a revoked one no longer listed, a guess) is 403
 * with a message naming what is needed; before the first heartbeat answer nobody reads.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startAgentApi, type AgentApi } from '../../src/api/index.js';
import { formatAclToken, newAclToken } from '../../src/cluster/acl-token.js';
import { createCa, issueNodeCert } from '../../src/cluster/certs.js';
import { secretHash } from '../../src/cluster/join-token.js';
import type { LogReaders } from '../../src/workload/protocol.js';
import { httpsText } from '../e2e/https-request.js';

const admin = 'the-admin-token-of-this-test';
const operator = newAclToken();
const writer = newAclToken();
let readers: LogReaders = { adminTokenHash: null, tokens: [] };
let dir: string;
let api: AgentApi;
let ca: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quorate-agent-api-'));
  await mkdir(join(dir, 'a1', 'logs'), { recursive: true });
  await writeFile(join(dir, 'a1', 'logs', 'stdout.log'), 'hello from a1\n');
  const authority = await createCa('test CA');
  ca = authority.certPem;
  const cert = await issueNodeCert(authority, { nodeId: 'node-9', ipAddresses: ['127.0.0.1'] });
  api = await startAgentApi({
    host: '127.0.0.1',
    port: 0,
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    allocationRoot: dir,
    logReaders: () => readers,
    health: () => ({ id: 'node-9', leader: 'node-1', running: 1 }),
    log: () => undefined,
  });
});

after(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

function logs(token: string | null): Promise<{ status: number; text: string }> {
  return httpsText(`${api.url}/v1/allocations/a1/logs`, { ca, ...(token === null ? {} : { headers: { authorization: `Bearer ${token}` } }) });
}

test('logs go to the admin token and the listed operator tokens only', async () => {
  assert.equal((await logs(admin)).status, 403, 'before the first heartbeat answer nobody reads');
  readers = { adminTokenHash: secretHash(admin), tokens: [{ id: operator.id, secretHash: secretHash(operator.secret) }] };
  assert.deepEqual(await logs(admin), { status: 200, text: 'hello from a1\n' });
  assert.deepEqual(await logs(formatAclToken(operator)), { status: 200, text: 'hello from a1\n' });
  const none = await logs(null);
  assert.equal(none.status, 401);
  assert.match(none.text, /needs the admin token or an API token with role operator or admin/);
  for (const token of [formatAclToken(writer), `${formatAclToken(operator)}x`, 'guess']) {
    const refused = await logs(token);
    assert.equal(refused.status, 403, token);
    assert.match(refused.text, /the token is not valid here: this request needs the admin token or an API token with role operator or admin/);
  }
  // Revoked: the leader's next answer no longer lists it.
  readers = { adminTokenHash: secretHash(admin), tokens: [] };
  assert.equal((await logs(formatAclToken(operator))).status, 403);
});
