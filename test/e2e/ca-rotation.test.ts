/**
 * Certificates on real processes (127.0.52.x: three servers made by `cluster init`/`join` and a
 * `quorate agent` worker running a job):
 * - a certificate replaced in a server's data directory is presented by its API and its peer
 *   listener within seconds, and reported by `cluster status`, with the process never restarted;
 * - `quorate cluster ca rotate` under a steady write load: the rotation walks through its steps
 *   to the end, no acknowledged write is lost, writes keep being acknowledged throughout, the
 *   worker stays ready and its job copy is never replaced; afterwards every node (the worker
 *   included) trusts only the new CA and presents a certificate from it, and a certificate from
 *   the old CA no longer gets a peer connection.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as tls from 'node:tls';
import { certFingerprint, certInfo, issueNodeCert, issuedBy, splitCertificates } from '../../src/cluster/certs.js';
import { QuorateClient } from '../../src/client/index.js';
import { CliNodes, until, type CliNode } from './cli-nodes.js';
import { intervals, maxConcurrent, readEvents, recordingJob } from './job-events.js';

let nodes: CliNodes;
let servers: CliNode[];
let worker: CliNode;

before(async () => {
  nodes = await CliNodes.create('ca-rotation');
  servers = ['127.0.52.1', '127.0.52.2', '127.0.52.3'].map((host) => nodes.node(host));
  worker = nodes.node('127.0.52.10');
  const [first, ...others] = servers as [CliNode, ...CliNode[]];
  await first.ok('cluster', 'init', '--advertise', first.host);
  for (const server of others) {
    const token = (await first.ok('cluster', 'join-token', '--ttl', '1h')).trim();
    await server.ok('cluster', 'join', '--token', token, '--advertise', server.host, '--servers', `${first.host}:8080`);
  }
  const token = (await first.ok('cluster', 'join-token', '--role', 'worker', '--ttl', '1h')).trim();
  await worker.ok('agent', '--token', token, '--advertise', worker.host, '--servers', servers.map((s) => `${s.host}:8080`).join(','), '--watchdog-timeout', '3s');
});

after(async () => {
  await nodes.cleanup();
});

const tlsFile = (node: CliNode, name: string): string => join(node.dataDir, 'tls', name);

/** The certificate presented at host:port (with a client certificate for the peer port's mutual TLS). */
function presented(host: string, port: number, ca: string, client?: { certPem: string; keyPem: string }): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, ca, checkServerIdentity: () => undefined, ...(client === undefined ? {} : { cert: client.certPem, key: client.keyPem }) });
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate().raw;
      socket.destroy();
      resolve(new X509Certificate(raw));
    });
    socket.once('error', reject);
  });
}

/** Whether a peer connection with `client` survives the handshake (the server drops refused ones at once). */
function peerAccepts(host: string, ca: string, client: { certPem: string; keyPem: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port: 8081, ca, cert: client.certPem, key: client.keyPem, checkServerIdentity: () => undefined, minVersion: 'TLSv1.3' });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(true);
    }, 1000);
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

test('a certificate replaced on disk is served by the API and the peer listener without a restart', async () => {
  const node = servers[1] as CliNode;
  const pid = await node.pid();
  const ca = await readFile(tlsFile(node, 'ca.crt'), 'utf8');
  const caKey = await readFile(tlsFile(node, 'ca.key'), 'utf8');
  const renewed = await issueNodeCert({ certPem: ca, keyPem: caKey }, { nodeId: 'node-2', ipAddresses: [node.host], validityDays: 200 });
  const client = await issueNodeCert({ certPem: ca, keyPem: caKey }, { nodeId: 'probe', ipAddresses: [] });
  // What the operator's PKI would do: key, then certificate (never a torn pair for long).
  await writeFile(tlsFile(node, 'node.key'), renewed.keyPem, { mode: 0o600 });
  await writeFile(tlsFile(node, 'node.crt'), renewed.certPem);
  const serial = new X509Certificate(renewed.certPem).serialNumber;
  await until('the API presents the new certificate', async () => ((await presented(node.host, 8080, ca)).serialNumber === serial ? true : null), 15_000);
  assert.equal((await presented(node.host, 8081, ca, client)).serialNumber, serial, 'the peer listener too');
  const status = await (servers[0] as CliNode).status();
  const report = status?.members.find((m) => m.id === 'node-2')?.report;
  assert.equal(report?.certificateNotAfter, (await certInfo(renewed.certPem)).notAfter.toISOString());
  assert.equal(await node.pid(), pid, 'the same process');
  assert.equal((await (await node.client()).put('after-renewal', 'ok')).revision > 0, true);
});

test('cluster ca rotate under a write load: every step done, no acknowledged write lost, nothing restarted or replaced', async (t) => {
  const first = servers[0] as CliNode;
  const oldCa = await readFile(tlsFile(first, 'ca.crt'), 'utf8');
  const oldCaKey = await readFile(tlsFile(first, 'ca.key'), 'utf8');
  const oldCert = { certPem: await readFile(tlsFile(first, 'node.crt'), 'utf8'), keyPem: await readFile(tlsFile(first, 'node.key'), 'utf8') };
  const pids = await Promise.all([...servers, worker].map((n) => n.pid()));
  const token = (await readFile(join(first.dataDir, 'admin.token'), 'utf8')).trim();

  const events = join(nodes.root, 'events.jsonl');
  const admin = await first.client();
  await admin.runJob(recordingJob('svc', 1, events));
  const [copy] = await until('the job running on the worker', async () => {
    const running = (await admin.jobStatus('svc')).allocations.filter((a) => a.status === 'running');
    return running.length === 1 ? running : null;
  });
  assert.ok(copy !== undefined);

  // The load: sequential writes through every server, each client made with the CA bundle the
  // first node trusts at that moment (as a client that re-reads its CA file would).
  const acknowledged: string[] = [];
  let failures = 0;
  let longestGapMs = 0;
  let lastAck = Date.now();
  const loading = { on: true };
  const load = (async () => {
    for (let n = 0; loading.on; n++) {
      const ca = await readFile(tlsFile(first, 'ca.crt'), 'utf8');
      const client = new QuorateClient({ endpoints: servers.map((s) => `https://${s.host}:8080`), ca, token, requestTimeoutMs: 5000 });
      try {
        await client.put(`load/${n}`, `v${n}`);
        acknowledged.push(`load/${n}`);
        longestGapMs = Math.max(longestGapMs, Date.now() - lastAck);
        lastAck = Date.now();
      } catch {
        failures++;
      }
    }
  })();
  await sleep(500);
  const rotationStart = Date.now();
  const rotated = await first.run('cluster', 'ca', 'rotate', '--wait', '120');
  const rotationMs = Date.now() - rotationStart;
  await sleep(500);
  loading.on = false;
  await load;
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.match(rotated.stdout, /step 1\/3: every node is to trust the new CA too/);
  assert.match(rotated.stdout, /step 2\/3: every node is to get a certificate from the new CA/);
  assert.match(rotated.stdout, /done: the cluster trusts only the new CA/);

  // Each node installs the last step itself within a round (the worker with its next heartbeat).
  const bundles = async (): Promise<string[]> => Promise.all([...servers, worker].map((node) => readFile(tlsFile(node, 'ca.crt'), 'utf8')));
  const newCa = await until('every node trusting one CA', async () => {
    const all = await bundles();
    return all.every((pem) => pem === all[0] && splitCertificates(pem).length === 1) ? all[0] : null;
  }, 10_000);
  assert.notEqual(certFingerprint(newCa), certFingerprint(oldCa));
  for (const node of [...servers, worker]) {
    assert.ok(issuedBy(await readFile(tlsFile(node, 'node.crt'), 'utf8'), newCa), `${node.host} has a certificate from the new CA`);
  }
  for (const server of servers) assert.ok(issuedBy((await presented(server.host, 8080, newCa)).toString(), newCa), `${server.host}'s API presents it`);
  const status = await first.status();
  assert.ok(status !== null);
  for (const member of status.members) assert.equal(member.report?.certificateIssuer, certFingerprint(newCa), `${member.id} reports it`);

  // Nothing lost, nothing stalled, nothing restarted or replaced.
  t.diagnostic(`rotation took ${rotationMs} ms; ${acknowledged.length} writes acknowledged, ${failures} attempts failed, longest gap between acknowledgements ${longestGapMs} ms`);
  assert.ok(acknowledged.length > 20, `only ${acknowledged.length} writes acknowledged`);
  const after = new QuorateClient({ endpoints: [`https://${first.host}:8080`], ca: newCa, token });
  const stored = new Set((await after.list('load/')).kvs.map((kv) => new TextDecoder().decode(kv.key)));
  assert.deepEqual(acknowledged.filter((key) => !stored.has(key)), [], 'every acknowledged write is there');
  assert.ok(longestGapMs < 3000, `writes stalled for ${longestGapMs} ms (${failures} failed attempts)`);
  assert.deepEqual(await Promise.all([...servers, worker].map((n) => n.pid())), pids, 'no process restarted');
  assert.equal((await after.nodes()).find((n) => n.id === copy.node)?.status, 'ready');
  const allocations = (await after.jobStatus('svc')).allocations.filter((a) => a.status === 'running');
  assert.deepEqual(allocations.map((a) => a.id), [copy.id], 'the copy was never replaced');
  assert.equal(maxConcurrent(intervals(await readEvents(events), Date.now())).count, 1);

  // The old CA is gone: its certificates get no peer connection, and a new one it signs neither.
  assert.equal(await peerAccepts(first.host, newCa, oldCert), false);
  const forged = await issueNodeCert({ certPem: oldCa, keyPem: oldCaKey }, { nodeId: 'node-9', ipAddresses: ['127.0.52.9'] });
  assert.equal(await peerAccepts(first.host, newCa, forged), false);
  assert.match(await first.ok('cluster', 'ca', 'rotate', '--status'), /^done: the cluster trusts only the new CA/);
});
