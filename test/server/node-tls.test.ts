/**
 * A node's TLS identity while it runs (server/node-tls.ts), on real files and certificates:
 * new files written by the operator's PKI are picked up and announced; a pair caught mid-write
 * (key and certificate that do not match) is not; a certificate within its renewal window is
 * renewed by a node holding the CA key and written back with a private key file; a renewal
 * interrupted between its two renames is finished (or dropped) at the next load; a trust bundle
 * that does not cover the node's own certificate is refused. Also the sealing of the CA key a
 * rotation carries in the log, and the trust steps the replicated state accepts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { certFingerprint, certInfo, createCa, issueNodeCert, keyMatches, type CertAndKey } from '../../src/cluster/certs.js';
import { seal, unseal } from '../../src/cluster/seal.js';
import { NodeTls } from '../../src/server/node-tls.js';
import type { TlsIdentityConfig } from '../../src/server/tls-material.js';
import { CredentialRegistry, type ClusterTrust } from '../../src/state/index.js';
import { silentLogger } from '../../src/util/log.js';

const dayMs = 24 * 60 * 60 * 1000;
let dir: string;
let ca: CertAndKey;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quorate-node-tls-'));
  ca = await createCa('test CA');
});
after(() => rm(dir, { recursive: true, force: true }));

async function nodeFiles(name: string, validityDays: number, withCaKey: boolean): Promise<TlsIdentityConfig> {
  const base = join(dir, name);
  const node = await issueNodeCert(ca, { nodeId: 'node-1', ipAddresses: ['127.0.0.1'], validityDays });
  await writeFile(`${base}-ca.crt`, ca.certPem);
  await writeFile(`${base}-node.crt`, node.certPem);
  await writeFile(`${base}-node.key`, node.keyPem, { mode: 0o600 });
  if (withCaKey) await writeFile(`${base}-ca.key`, ca.keyPem, { mode: 0o600 });
  const address = { host: '127.0.0.1', port: 8081 };
  const files = { kind: 'files' as const, caFile: `${base}-ca.crt`, certFile: `${base}-node.crt`, keyFile: `${base}-node.key`, ...(withCaKey ? { caKeyFile: `${base}-ca.key` } : {}) };
  return { nodeId: 'node-1', clusterName: 'quorate', advertise: address, api: address, tls: files };
}

function filesOf(config: TlsIdentityConfig): { caFile: string; certFile: string; keyFile: string } {
  assert.equal(config.tls.kind, 'files');
  return config.tls;
}

test('replaced files are picked up and announced; a half-written pair is not', async () => {
  const config = await nodeFiles('pickup', 365, false);
  const tls = await NodeTls.load(config, silentLogger);
  const before = tls.material;
  const changes: string[] = [];
  tls.on('changed', (material) => changes.push(material.certPem));
  await tls.check();
  assert.equal(tls.material, before, 'unchanged files change nothing');

  const renewed = await issueNodeCert(ca, { nodeId: 'node-1', ipAddresses: ['127.0.0.1'], validityDays: 200 });
  // Certificate first: until the key follows, the pair does not match and is left alone.
  await writeFile(filesOf(config).certFile, renewed.certPem);
  await tls.check();
  assert.equal(tls.material, before);
  await writeFile(filesOf(config).keyFile, renewed.keyPem);
  await tls.check();
  assert.deepEqual(changes, [renewed.certPem]);
  assert.equal(tls.material.certPem, renewed.certPem);
  assert.equal(tls.info().certificateNotAfter, (await certInfo(renewed.certPem)).notAfter.toISOString());
  assert.equal(tls.info().certificateIssuer, certFingerprint(ca.certPem));

  // A certificate from a CA the trust file does not hold is refused.
  const stranger = await createCa('another CA');
  const foreign = await issueNodeCert(stranger, { nodeId: 'node-1', ipAddresses: ['127.0.0.1'] });
  await writeFile(filesOf(config).keyFile, foreign.keyPem);
  await writeFile(filesOf(config).certFile, foreign.certPem);
  await tls.check();
  assert.equal(tls.material.certPem, renewed.certPem);
});

test('a node holding the CA key renews its certificate within the renewal window, and not before', async () => {
  const config = await nodeFiles('renew', 365, true);
  let now = Date.now();
  const tls = await NodeTls.load(config, silentLogger, () => now);
  const first = tls.material.certPem;
  now += 300 * dayMs;
  await tls.check();
  assert.equal(tls.material.certPem, first, '65 days left: not yet');
  now += 40 * dayMs;
  await tls.check();
  assert.notEqual(tls.material.certPem, first, '25 days left: renewed');
  const info = await certInfo(tls.material.certPem);
  assert.equal(info.commonName, 'node-1');
  assert.deepEqual(info.ipAddresses, ['127.0.0.1']);
  assert.ok(info.notAfter.getTime() > Date.now() + 360 * dayMs);
  const { certFile, keyFile } = filesOf(config);
  assert.equal(await readFile(certFile, 'utf8'), tls.material.certPem, 'written back');
  assert.ok(keyMatches(await readFile(certFile, 'utf8'), await readFile(keyFile, 'utf8')));
  assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
});

test('a node without the CA key keeps its certificate (and status warns about it)', async () => {
  const config = await nodeFiles('no-key', 365, false);
  const tls = await NodeTls.load(config, silentLogger, () => Date.now() + 350 * dayMs);
  const first = tls.material.certPem;
  await tls.check();
  assert.equal(tls.material.certPem, first);
});

test('a node without the CA key renews through its issuer (an arbiter asks the leader)', async () => {
  const config = await nodeFiles('through', 365, false);
  const tls = await NodeTls.load(config, silentLogger, () => Date.now() + 350 * dayMs);
  const issued = await issueNodeCert(ca, { nodeId: 'node-1', ipAddresses: ['127.0.0.1'] });
  tls.renewThrough(() => Promise.resolve(issued));
  await tls.check();
  assert.equal(tls.material.certPem, issued.certPem);
  assert.equal(await readFile(filesOf(config).certFile, 'utf8'), issued.certPem);
});

test('a renewal interrupted between its renames is finished at the next load, or dropped', async () => {
  const config = await nodeFiles('interrupted', 365, true);
  const { certFile, keyFile } = filesOf(config);
  const renewed = await issueNodeCert(ca, { nodeId: 'node-1', ipAddresses: ['127.0.0.1'] });
  // The key was renamed in, the certificate not yet.
  await writeFile(keyFile, renewed.keyPem);
  await writeFile(`${certFile}.next`, renewed.certPem);
  assert.equal((await NodeTls.load(config, silentLogger)).material.certPem, renewed.certPem);
  // Neither renamed: the old pair stays and the new files go.
  const old = await readFile(certFile, 'utf8');
  const another = await issueNodeCert(ca, { nodeId: 'node-1', ipAddresses: ['127.0.0.1'] });
  await writeFile(`${certFile}.next`, another.certPem);
  await writeFile(`${keyFile}.next`, another.keyPem);
  assert.equal((await NodeTls.load(config, silentLogger)).material.certPem, old);
  await assert.rejects(stat(`${keyFile}.next`));
});

test('install refuses a trust bundle without the CA of the certificate the node presents', async () => {
  const config = await nodeFiles('install', 365, false);
  const tls = await NodeTls.load(config, silentLogger);
  const next = await createCa('next CA');
  await assert.rejects(tls.install({ caPem: next.certPem }), /does not include the CA of the certificate/);
  await tls.install({ caPem: ca.certPem + next.certPem });
  assert.deepEqual(tls.info().trustedCas, [certFingerprint(ca.certPem), certFingerprint(next.certPem)]);
  assert.equal(await readFile(filesOf(config).caFile, 'utf8'), ca.certPem + next.certPem);
});

test('a sealed CA key opens only with the same admin token and cluster id', () => {
  const sealed = seal(ca.keyPem, 'admin-token', 'c0ffee0000000000');
  assert.ok(!sealed.includes('PRIVATE KEY'));
  assert.equal(unseal(sealed, 'admin-token', 'c0ffee0000000000'), ca.keyPem);
  assert.throws(() => unseal(sealed, 'other-token', 'c0ffee0000000000'), /does not open/);
  assert.throws(() => unseal(sealed, 'admin-token', 'c0ffee0000000001'), /does not open/);
  assert.throws(() => unseal(`${sealed.slice(0, -2)}AA`, 'admin-token', 'c0ffee0000000000'), /does not open/);
});

test('the replicated trust moves trust -> switch -> done, one rotation at a time', async () => {
  const next = await createCa('next CA');
  const registry = new CredentialRegistry();
  const trust: ClusterTrust = { cas: [ca.certPem, next.certPem], sealedKey: 'sealed', step: 'trust', atMs: 1 };
  const set = (t: ClusterTrust): boolean => registry.apply({ op: 'trustSet', trust: t }).ok;
  assert.equal(set({ ...trust, step: 'switch' }), false, 'no switch before trust');
  assert.equal(set(trust), true);
  assert.equal(set({ ...trust, cas: [next.certPem], step: 'trust' }), false, 'a second rotation waits for the first');
  assert.equal(set({ ...trust, step: 'done', cas: [next.certPem] }), false, 'no done before switch');
  assert.equal(set({ ...trust, step: 'switch', cas: [next.certPem, ca.certPem] }), false, 'the switch keeps the same CAs');
  assert.equal(set({ ...trust, step: 'switch' }), true);
  assert.equal(set({ ...trust, step: 'done' }), false, 'done keeps only the signing CA');
  assert.equal(set({ ...trust, step: 'done', cas: [next.certPem] }), true);
  assert.equal(set({ ...trust, cas: [next.certPem, ca.certPem], step: 'trust' }), true, 'a new rotation after the last one ended');
  const copy = new CredentialRegistry();
  copy.replace(registry.state());
  assert.deepEqual(copy.trust, registry.trust, 'snapshots carry the trust');
});
