/**
 * Job files: a full TOML file and the same job in JSON become the same typed spec, defaults fill
 * what is left out, and each mistake is refused with the field and the problem. Files are real
 * files in a temp directory, read as `quorate job run` reads them.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { JobSpec } from '../../src/state/index.js';
import { loadJobSpec, parseJobSpec } from '../../src/workload/job-spec.js';
import { isQuorateError } from '../../src/util/errors.js';

const full = `
name = "web"
count = 3
command = "node"
args = ["server.js", "--quiet"]
workdir = "/srv/web"
ports = ["http"]
stop_grace = "5s"
no_quorum_policy = "freeze"
[env]
GREETING = "hello"
[resources]
memory_mb = 128
cpu = 0.5
[restart]
policy = "always"
attempts = 5
delay = "500ms"
window = "10m"
[constraints]
role = "worker"
labels = { zone = "a" }
[health]
http = { port = "http", path = "/health" }
interval = "2s"
timeout = "1s"
`;

const expected: JobSpec = {
  name: 'web',
  count: 3,
  command: 'node',
  args: ['server.js', '--quiet'],
  env: { GREETING: 'hello' },
  workdir: '/srv/web',
  ports: ['http'],
  stopGraceMs: 5000,
  resources: { memoryMb: 128, cpu: 0.5 },
  restart: { policy: 'always', attempts: 5, delayMs: 500, windowMs: 600_000 },
  constraints: { role: 'worker', labels: { zone: 'a' } },
  health: { kind: 'http', port: 'http', path: '/health', intervalMs: 2000, timeoutMs: 1000 },
  noQuorumPolicy: 'freeze',
};

async function withFile<T>(name: string, text: string, body: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'quorate-job-'));
  try {
    await writeFile(join(dir, name), text);
    return await body(join(dir, name));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a TOML job file and its JSON twin give the same spec', async () => {
  assert.deepEqual(await withFile('web.toml', full, loadJobSpec), expected);
  const json = {
    name: 'web',
    count: 3,
    command: 'node',
    args: ['server.js', '--quiet'],
    workdir: '/srv/web',
    ports: ['http'],
    stop_grace: '5s',
    no_quorum_policy: 'freeze',
    env: { GREETING: 'hello' },
    resources: { memory_mb: 128, cpu: 0.5 },
    restart: { policy: 'always', attempts: 5, delay: '500ms', window: '10m' },
    constraints: { role: 'worker', labels: { zone: 'a' } },
    health: { http: { port: 'http', path: '/health' }, interval: '2s', timeout: '1s' },
  };
  assert.deepEqual(await withFile('web.json', JSON.stringify(json), loadJobSpec), expected);
});

test('defaults: one copy, on-failure restarts, any role, no health check', () => {
  const spec = parseJobSpec({ name: 'tiny', command: 'sleep', args: ['100'] });
  assert.equal(spec.count, 1);
  assert.deepEqual(spec.restart, { policy: 'on-failure', attempts: 3, delayMs: 1000, windowMs: 300_000 });
  assert.deepEqual(spec.constraints, { role: 'any', labels: {} });
  assert.deepEqual(spec.resources, { memoryMb: 64, cpu: 0.1 });
  assert.equal(spec.stopGraceMs, 10_000);
  assert.equal(spec.health, null);
  assert.equal(spec.workdir, null);
});

test('mistakes are refused with the field and the problem', async () => {
  const refused = (document: unknown, pattern: RegExp): void =>
    assert.throws(
      () => parseJobSpec(document, 'app.toml'),
      (error: unknown) => isQuorateError(error, 'invalid_job') && pattern.test(error.message),
    );
  refused({ command: 'x' }, /^app\.toml: name: /);
  refused({ name: 'a b', command: 'x' }, /^app\.toml: name: 1-64 letters/);
  refused({ name: 'a', command: 'x', count: 0 }, /^app\.toml: count: /);
  refused({ name: 'a', command: 'x', colour: 'red' }, /^app\.toml: \(top level\): .*colour/);
  refused({ name: 'a', command: 'x', stop_grace: '10' }, /^app\.toml: stop_grace: a number and a unit/);
  refused({ name: 'a', command: 'x', restart: { policy: 'sometimes' } }, /^app\.toml: restart\.policy: /);
  refused({ name: 'a', command: 'x', health: { interval: '1s' } }, /health: give exactly one of http/);
  refused({ name: 'a', command: 'x', health: { http: { port: 'web' } } }, /health\.http\.port: "web" is not one of ports/);
  refused({ name: 'a', command: 'x', env: { 'BAD-NAME': 'x' } }, /^app\.toml: env\.BAD-NAME: /);
  await assert.rejects(
    withFile('bad.toml', 'name = ', loadJobSpec),
    (error: unknown) => isQuorateError(error, 'invalid_job') && /bad\.toml is not valid TOML/.test(error.message),
  );
  await assert.rejects(loadJobSpec('/nonexistent/app.toml'), /cannot read job file \/nonexistent\/app\.toml/);
});
