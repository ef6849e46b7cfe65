/**
 * Issue 9: no secret appears in logs, errors, metrics or status output. A whole walkthrough with
 * the real `quorate` command, each step a process of its own, on 127.0.50.1-3 (servers) and
 * 127.0.50.9 (a worker): init; join tokens for servers and workers; two joins; joins refused for
 * a revoked, expired, mistyped, damaged, foreign or wrong-role token and for unreachable servers;
 * API tokens of three roles (one limited to a key prefix) used, refused beyond their role and
 * prefix, revoked, and mistyped; an agent started from a shell that exported QUORATE_ADMIN_TOKEN;
 * a fence device (a script that records its arguments and environment); two jobs, one on the
 * worker printing its whole environment; a fencing (the worker's agent and tasks are SIGKILLed,
 * it is lost and the device fences it) and the agent's restart; status, node, job, log and fence
 * commands in text and JSON; a backup; every server stopped.
 *
 * Every secret issued or typed (the admin token, each join and API token, the mistyped ones, each
 * private key) is then searched for (secret-scan.ts) in everything the walkthrough produced
 * (transcript.ts): each command's stdout and stderr, each API answer (status and its metrics,
 * nodes, jobs, fencing, token lists, allocation logs, refusals), and every file under the temp
 * root: the servers' and the agent's quorate.log, the tasks' logs and records, the Raft state,
 * the backup, the fence device's record. Only the command that printed a token, `admin.token`
 * and a key file may hold their one secret. Before concluding, the same search must find every
 * form of every secret planted in a copy of a real log, so a search that cannot match fails the
 * test instead of passing it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ClusterStatusJson, JobStatusJson } from '../../src/api/index.js';
import type { NodeListEntry } from '../../src/cli/node-list.js';
import { formatJoinToken, parseJoinToken } from '../../src/cluster/join-token.js';
import { CliNodes, until, type CliNode } from './cli-nodes.js';
import { findLeaks, privateKeySecret, randomSecret, readTree, tokenForms, type Output, type Secret } from './secret-scan.js';
import { Transcript } from './transcript.js';

let nodes: CliNodes;
let n1: CliNode;
let n2: CliNode;
let n3: CliNode;
let worker: CliNode;
/** The address the refused joins advertise; it never becomes a node. */
let stranger: CliNode;
/** Every server's API, as `--servers` takes them. */
let servers: string;

before(async () => {
  nodes = await CliNodes.create('secrets');
  [n1, n2, n3, stranger, worker] = ['127.0.50.1', '127.0.50.2', '127.0.50.3', '127.0.50.4', '127.0.50.9'].map((host) => nodes.node(host)) as [CliNode, CliNode, CliNode, CliNode, CliNode];
  servers = [n1, n2, n3].map((n) => `${n.host}:8080`).join(',');
});

after(async () => {
  await nodes.cleanup();
});

interface JoinTokens {
  readonly admin: string;
  readonly server: string;
  readonly worker: string;
  readonly revoked: string;
  readonly expired: string;
}

interface ApiTokens {
  /** Revoked by now. */
  readonly read: string;
  readonly operator: string;
}

/** `cluster init` on node 1, and the join tokens: for servers, for workers, one revoked, one that expires at once. */
async function initAndIssue(t: Transcript): Promise<JoinTokens> {
  await t.ok(n1, ['cluster', 'init', '--advertise', n1.host]);
  const admin = (await readFile(join(n1.dataDir, 'admin.token'), 'utf8')).trim();
  t.secrets.push(randomSecret('the admin token', admin, tokenForms(admin)));
  const issue = async (label: string, args: readonly string[]): Promise<{ token: string; id: string }> => {
    const created = JSON.parse(await t.ok(n1, ['--json', 'cluster', 'join-token', ...args], { issues: label })) as { token: string; id: string };
    t.addJoinToken(label, created.token);
    return created;
  };
  const server = (await t.ok(n1, ['cluster', 'join-token', '--ttl', '1h'], { issues: 'the server join token' })).trim();
  t.addJoinToken('the server join token', server);
  const workerToken = await issue('the worker join token', ['--role', 'worker', '--ttl', '1h']);
  const revoked = await issue('the revoked join token', ['--ttl', '1h']);
  await t.ok(n1, ['cluster', 'join-token', '--revoke', revoked.id]);
  const expired = await issue('the expired join token', ['--ttl', '1s']);
  await t.ok(n1, ['cluster', 'join-token', '--list']);
  await t.ok(n1, ['--json', 'cluster', 'join-token', '--list']);
  return { admin, server, worker: workerToken.token, revoked: revoked.token, expired: expired.token };
}

async function joinServers(t: Transcript, tokens: JoinTokens): Promise<void> {
  await t.ok(n2, ['cluster', 'join', '--token', tokens.server, '--advertise', n2.host, '--servers', `${n1.host}:8080`]);
  await t.ok(n3, ['cluster', 'join', '--token', tokens.server, '--advertise', n3.host, '--servers', `${n1.host}:8080,${n2.host}:8080`]);
  for (const n of [n2, n3]) assert.equal((await readFile(join(n.dataDir, 'admin.token'), 'utf8')).trim(), tokens.admin, 'every server holds the one admin token');
}

/** Each refusal says why without echoing what was typed. */
async function refusedJoins(t: Transcript, tokens: JoinTokens): Promise<void> {
  const mistyped = formatJoinToken({ ...parseJoinToken(tokens.server), secret: randomBytes(24).toString('base64url') });
  t.addJoinToken('a mistyped join token', mistyped);
  // One character changed near the end: the checksum no longer matches.
  const damaged = tokens.server.slice(0, -10) + (tokens.server.at(-10) === 'A' ? 'B' : 'A') + tokens.server.slice(-9);
  t.secrets.push({ label: 'a damaged join token', needles: tokenForms(damaged) });
  const foreign = formatJoinToken({ caFingerprint: `sha256:${randomBytes(32).toString('hex')}`, id: randomBytes(8).toString('hex'), secret: randomBytes(24).toString('base64url') });
  t.addJoinToken('a join token of another cluster', foreign);
  const joinAs = (token: string, via = servers, wait = '5s'): string[] => ['cluster', 'join', '--token', token, '--advertise', stranger.host, '--servers', via, '--wait', wait];
  await t.refused(stranger, joinAs(tokens.revoked), /was revoked/);
  await t.refused(stranger, joinAs(tokens.expired), /expired/);
  await t.refused(stranger, joinAs(foreign), /CA fingerprint mismatch/);
  // Nothing listens on 127.0.50.5: the refusal lists every address tried, and why.
  await t.refused(stranger, joinAs(tokens.server, '127.0.50.5:8080', '1s'), /no server admitted the node/);
  await t.refused(stranger, joinAs(mistyped), /the secret does not match/);
  await t.refused(stranger, joinAs(damaged), /the join token is damaged/);
  await t.refused(stranger, joinAs(tokens.worker), /admits a worker, not a server/);
  await t.refused(stranger, ['agent', '--token', tokens.server, '--advertise', stranger.host, '--servers', servers, '--wait', '5s'], /admits a server, not a worker/);
}

/** API tokens created, used within their role and prefix, refused beyond them, revoked; wrong credentials of each kind. */
async function apiTokens(t: Transcript, tokens: JoinTokens): Promise<ApiTokens> {
  const read = (await t.ok(n1, ['acl', 'token', 'create', '--role', 'read'], { issues: 'the read API token' })).trim();
  t.addAclToken('the read API token', read);
  const write = (JSON.parse(await t.ok(n1, ['--json', 'acl', 'token', 'create', '--role', 'write', '--prefix', 'app/'], { issues: 'the write API token' })) as { token: string }).token;
  t.addAclToken('the write API token', write);
  const operator = (await t.ok(n1, ['acl', 'token', 'create', '--role', 'operator'], { issues: 'the operator API token' })).trim();
  t.addAclToken('the operator API token', operator);
  await until('the tokens applied on node 3', async () => ((await t.run(n3, ['--api-token', write, 'kv', 'put', 'app/greeting', 'hello'])).code === 0 ? true : null));
  assert.equal(await t.ok(n2, ['--api-token', read, 'kv', 'get', 'app/greeting']), 'hello');
  await t.refused(n2, ['--api-token', write, 'kv', 'put', 'other', 'x'], /may only touch keys that start with "app\/"/);
  await t.refused(n2, ['--api-token', read, 'kv', 'put', 'app/x', '1'], /role read/);
  await t.ok(n1, ['acl', 'token', 'list']);
  await t.ok(n1, ['--json', 'acl', 'token', 'list']);
  const readId = read.split('_')[1] ?? '';
  await t.ok(n1, ['acl', 'token', 'revoke', readId]);
  await until('the revocation applied on node 2', async () => ((await t.run(n2, ['--api-token', read, 'kv', 'get', 'app/greeting'])).code === 1 ? true : null));
  await t.refused(n1, ['kv', 'get', 'app/greeting'], /was revoked/, { QUORATE_API_TOKEN: read });
  const mistyped = `qat1_${readId}_${randomBytes(24).toString('base64url')}`;
  t.addAclToken('a mistyped API token', mistyped);
  await t.refused(n1, ['--api-token', mistyped, 'kv', 'get', 'app/greeting'], /not valid/);
  await t.refused(n1, ['--json', '--api-token', mistyped, 'cluster', 'status'], /not valid/);
  await t.refused(n1, ['--api-token', tokens.worker, 'cluster', 'status'], /join token/);
  const wrongAdmin = randomBytes(32).toString('base64url');
  t.secrets.push(randomSecret('a mistyped admin token', wrongAdmin, tokenForms(wrongAdmin)));
  const remote = ['--endpoints', `https://${n2.host}:8080`, '--ca-file', join(n1.dataDir, 'tls', 'ca.crt')];
  await t.refused(stranger, [...remote, '--admin-token', wrongAdmin, 'cluster', 'status'], /not valid/);
  await t.ok(stranger, [...remote, '--admin-token', tokens.admin, 'cluster', 'status']);
  return { read, operator };
}

/** A job whose copy prints its arguments and whole environment, on the worker only. */
const envJob = `name = "envdump"
command = "${process.execPath}"
args = ["-e", '''
  const { QUORATE_ALLOC_ID: id, QUORATE_NODE_ADDRESS: host, QUORATE_PORT_HTTP: port } = process.env;
  console.log(JSON.stringify({ argv: process.argv, env: process.env }));
  console.error(id + " starting");
  require("http").createServer((req, res) => res.end(id)).listen(Number(port), host, () => console.log(id + " listening"));
''']
ports = ["http"]
stop_grace = "1s"
[constraints]
role = "worker"
[health]
http = { port = "http", path = "/" }
interval = "200ms"
timeout = "1s"
`;

/** README's first app: two copies, anywhere. */
const webJob = `name = "web"
count = 2
command = "${process.execPath}"
args = ["-e", '''
  const { QUORATE_ALLOC_ID: id, QUORATE_NODE_ADDRESS: host, QUORATE_PORT_HTTP: port } = process.env;
  require("http").createServer((req, res) => res.end("hello from " + id)).listen(Number(port), host, () => console.log(id + " listening on " + host + ":" + port));
''']
ports = ["http"]
stop_grace = "1s"
[restart]
policy = "always"
[health]
http = { port = "http", path = "/" }
interval = "200ms"
timeout = "1s"
`;

/** A fence device that records how the leader ran it: its arguments and whole environment. */
const fenceDevice = `#!/bin/sh
log="$1"; shift
{ echo "asked: $*"; env; } >> "$log"
exit 0
`;

/** Only the device fences (watchdog fencing off), so the fencing below is the device's. */
function fencingFile(device: string, log: string): string {
  return `watchdog = false\n[[level]]\nlevel = 1\n[[level.device]]\nname = "recorder"\ncommand = "${device}"\nargs = ["${log}"]\ntimeout = "5s"\n`;
}

const deviceLog = (): string => join(nodes.root, 'fence-device.log');

async function jobStatus(t: Transcript, name: string): Promise<JobStatusJson> {
  return JSON.parse(await t.ok(n1, ['--json', 'job', 'status', name])) as JobStatusJson;
}

async function running(t: Transcript, name: string, count: number, except: readonly string[] = []): Promise<JobStatusJson> {
  return until(`${count} running copies of ${name}`, async () => {
    const status = await jobStatus(t, name);
    const live = status.allocations.filter((a) => a.status === 'running' && a.desired === 'run' && !except.includes(a.id));
    return live.length === count ? status : null;
  });
}

/** The worker, the fencing setup, both jobs running, and their logs read through the CLI. */
async function workload(t: Transcript, tokens: JoinTokens, api: ApiTokens): Promise<JobStatusJson> {
  // An operator who exported the admin token in the shell that starts the agent: its tasks must not inherit it.
  await t.ok(worker, ['agent', '--token', tokens.worker, '--advertise', worker.host, '--servers', servers, '--watchdog-timeout', '2s'], { env: { QUORATE_ADMIN_TOKEN: tokens.admin } });
  const device = join(nodes.root, 'fence-device');
  await writeFile(device, fenceDevice);
  await chmod(device, 0o755);
  await writeFile(join(nodes.root, 'fencing.toml'), fencingFile(device, deviceLog()));
  await t.ok(n1, ['--api-token', api.operator, 'fence', 'config', join(nodes.root, 'fencing.toml')]);
  await writeFile(join(nodes.root, 'envdump.toml'), envJob);
  await writeFile(join(nodes.root, 'web.toml'), webJob);
  await t.ok(n2, ['--api-token', api.operator, 'job', 'run', join(nodes.root, 'envdump.toml')]);
  await t.ok(n1, ['job', 'run', join(nodes.root, 'web.toml')]);
  const dumped = await running(t, 'envdump', 1);
  assert.equal(dumped.allocations.find((a) => a.status === 'running')?.node, 'node-9');
  await running(t, 'web', 2);
  await until('the copy has printed its environment', async () => ((await t.ok(n1, ['job', 'logs', 'envdump'])).includes('QUORATE_ALLOC_ID') ? true : null));
  await t.ok(n1, ['job', 'logs', 'envdump', '--stderr']);
  await t.ok(n3, ['--json', 'job', 'logs', 'web']);
  // A worker serves its logs to operator and admin API tokens too (the leader sends their hashes).
  assert.match(await t.ok(n1, ['--api-token', api.operator, 'job', 'logs', 'envdump']), /QUORATE_ALLOC_ID/);
  await t.refused(n1, ['--api-token', api.read, 'job', 'logs', 'envdump'], /was revoked/);
  await t.ok(worker, ['--api-token', api.operator, 'node', 'list']);
  return dumped;
}

/** Every read route on every server (GET /v1/status carries the metrics), as the admin. */
async function readRoutes(t: Transcript, ca: string, admin: string): Promise<void> {
  const routes = ['/v1/status', '/v1/cluster/status', '/v1/health', '/v1/cluster/ca', '/v1/nodes', '/v1/jobs', '/v1/jobs/envdump', '/v1/jobs/web', '/v1/fencing', '/v1/acl/tokens', '/v1/cluster/join-tokens', '/v1/kv?prefix=app/'];
  for (const n of [n1, n2, n3]) for (const path of routes) await t.get(n.host, path, ca, admin);
}

/** The worker's own routes, and routes called with no, a revoked, and a join token. */
async function workerAndRefusedRoutes(t: Transcript, ca: string, tokens: JoinTokens, api: ApiTokens, envdump: JobStatusJson): Promise<void> {
  for (const a of envdump.allocations) {
    for (const stream of ['stdout', 'stderr']) assert.equal((await t.get(worker.host, `/v1/allocations/${a.id}/logs?stream=${stream}`, ca, tokens.admin)).status, 200);
  }
  await t.get(worker.host, '/v1/health', ca, null);
  assert.equal((await t.get(n1.host, '/v1/status', ca, api.read)).status, 403);
  assert.equal((await t.get(n2.host, '/v1/status', ca, tokens.server)).status, 403);
  assert.equal((await t.get(n3.host, '/v1/status', ca, null)).status, 401);
}

/** SIGKILL the worker's agent and every task it supervises (each task's shim leads its process group), as a power cut would. */
async function powerOff(node: CliNode): Promise<void> {
  await node.kill();
  for (const record of await readTree(join(node.dataDir, 'alloc'), 'alloc')) {
    if (!record.name.endsWith('/alloc.json')) continue;
    const pid = (JSON.parse(record.text) as { task: { pid: number } | null }).task?.pid;
    if (pid === undefined) continue;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** The worker is cut off hard, lost and fenced by the device; restarted on its data directory, it runs envdump again. */
async function fenceAndRestartWorker(t: Transcript, tokens: JoinTokens, envdump: JobStatusJson): Promise<void> {
  await powerOff(worker);
  await until('node-9 fenced', async () => {
    const list = JSON.parse(await t.ok(n1, ['--json', 'node', 'list'])) as NodeListEntry[];
    return list.find((n) => n.id === 'node-9')?.state === 'down' ? true : null;
  });
  assert.match(await t.ok(n1, ['fence', 'history']), /node-9 .*fenced/);
  assert.match(await readFile(deviceLog(), 'utf8'), /^asked: off node-9$/m);
  await t.ok(worker, ['agent'], { env: { QUORATE_ADMIN_TOKEN: tokens.admin } });
  await running(t, 'envdump', 1, envdump.allocations.map((a) => a.id));
}

/** Status in text and JSON from every server, node, job, log and fence commands, and a backup. */
async function statusEverywhere(t: Transcript): Promise<void> {
  for (const n of [n1, n2, n3]) {
    await t.ok(n, ['cluster', 'status']);
    assert.equal((JSON.parse(await t.ok(n, ['--json', 'cluster', 'status'])) as ClusterStatusJson).members.length, 3);
  }
  await t.ok(n2, ['node', 'list']);
  await t.ok(n2, ['node', 'info', 'node-9']);
  await t.ok(n2, ['node', 'info', 'node-1']);
  await t.ok(n3, ['--json', 'node', 'info', 'node-3']);
  await t.ok(n1, ['--json', 'fence', 'history']);
  await t.ok(n1, ['fence', 'config']);
  await t.ok(n1, ['job', 'status', 'web']);
  await t.ok(n1, ['job', 'status', 'envdump']);
  await t.ok(n1, ['job', 'list']);
  await t.ok(n2, ['job', 'logs', 'web']);
  await t.ok(n1, ['job', 'logs', 'envdump']);
  await t.ok(n2, ['snapshot', 'save', join(nodes.root, 'backup.snap')]);
}

/** Jobs stopped, then the agent and the servers, so their shutdown lines are in the logs too. */
async function windDown(t: Transcript, api: ApiTokens): Promise<void> {
  await t.ok(n1, ['--api-token', api.operator, 'job', 'stop', 'web']);
  await t.ok(n1, ['job', 'stop', 'envdump']);
  for (const n of [worker, n3, n2, n1]) await t.ok(n, ['stop']);
}

/** Every file under the root is an output; each key file's key is a secret, and a file that is a secret may hold it. */
async function addFiles(t: Transcript, admin: string): Promise<void> {
  const files = await readTree(nodes.root, 'root');
  const keys = new Map<string, string>();
  for (const file of files) {
    if (/\/tls\/[^/]+\.key$/.test(file.name) && !keys.has(file.text)) keys.set(file.text, `the private key in ${file.name}`);
  }
  assert.equal(keys.size, 5, 'the CA key and the node keys of three servers and a worker');
  for (const [pem, label] of keys) t.secrets.push(privateKeySecret(label, pem));
  for (const file of files) {
    const own = file.text.trim() === admin ? 'the admin token' : keys.get(file.text);
    t.outputs.push(own === undefined ? file : { ...file, allowed: new Set([own]) });
  }
  for (const n of [n1, n2, n3, worker]) assert.ok((files.find((f) => f.name === `root/${n.host}/quorate.log`)?.text.length ?? 0) > 0, `${n.host} logged`);
  assert.ok(files.some((f) => f.name.endsWith('/logs/stdout.log') && f.text.includes('QUORATE_ALLOC_ID')), 'a task log holds its environment');
  assert.ok(files.some((f) => f.name === 'root/fence-device.log' && /^PATH=/m.test(f.text)), 'the fence device recorded its environment');
}

/** The search itself works: every form of every secret, planted in a copy of a real log, is found. */
function assertSearchFinds(log: Output, secrets: readonly Secret[]): void {
  assert.ok(log.text.length > 1000, `${log.name} is a real log (${log.text.length} bytes)`);
  const lines = log.text.split('\n');
  const middle = Math.floor(lines.length / 2);
  for (const s of secrets) {
    for (const needle of s.needles) {
      const planted = [...lines.slice(0, middle), `{"level":"info","msg":"x${needle.text}x"}`, ...lines.slice(middle)].join('\n');
      const found = findLeaks([{ name: 'the planted copy', text: planted }], secrets);
      assert.ok(found.some((f) => f.startsWith(`${s.label} (`)), `${s.label} planted as ${needle.form} is found`);
    }
  }
}

test('a full walkthrough: no secret issued in it appears in any output, log or API answer', async () => {
  const t = new Transcript();
  const tokens = await initAndIssue(t);
  await joinServers(t, tokens);
  await refusedJoins(t, tokens);
  const api = await apiTokens(t, tokens);
  const envdump = await workload(t, tokens, api);
  const ca = await readFile(join(n1.dataDir, 'tls', 'ca.crt'), 'utf8');
  await readRoutes(t, ca, tokens.admin);
  await workerAndRefusedRoutes(t, ca, tokens, api, envdump);
  await fenceAndRestartWorker(t, tokens, envdump);
  await statusEverywhere(t);
  await readRoutes(t, ca, tokens.admin);
  await windDown(t, api);
  await addFiles(t, tokens.admin);

  const log = t.outputs.find((o) => o.name === `root/${n1.host}/quorate.log`);
  assert.ok(log !== undefined);
  assertSearchFinds(log, t.secrets);
  const bytes = t.outputs.reduce((sum, o) => sum + o.text.length, 0);
  const forms = t.secrets.reduce((sum, s) => sum + s.needles.length, 0);
  process.stdout.write(`# searched ${t.outputs.length} outputs (${(bytes / 1e3).toFixed(0)} kB) for ${t.secrets.length} secrets in ${forms} forms\n`);
  assert.deepEqual(findLeaks(t.outputs, t.secrets), []);
});
