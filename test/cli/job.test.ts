/**
 * The `quorate job` and `node` workload commands as a user runs them: the built CLI as a child
 * process against a real single node that runs jobs itself. A job file is submitted (then again,
 * unchanged), its status, list and logs are printed, and it is stopped; node list shows the job
 * count and drain/eligibility flip the flags; a waiting drain returns once the node runs nothing. A broken job file is an "error:" naming the file
 * and the field, with no stack trace and nothing sent.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SingleNode, singleNodeAdminToken } from '../api/single-node.js';
import { runCli, type CliResult } from './run-cli.js';

const waitMs = 20_000;
const greeting = 'hello from the cli job';

let server: SingleNode;
let dir: string;

before(async () => {
  server = await SingleNode.start();
  dir = await mkdtemp(join(tmpdir(), 'quorate-job-cli-'));
});

after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

function quorate(...args: string[]): Promise<CliResult> {
  return runCli(['--endpoints', server.url, ...args], { QUORATE_ADMIN_TOKEN: singleNodeAdminToken });
}

async function ok(...args: string[]): Promise<string> {
  const result = await quorate(...args);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

test('a broken job file is refused with its name and the field, without a stack trace', async () => {
  const file = join(dir, 'broken.toml');
  await writeFile(file, 'name = "x"\ncount = 0\ncommand = "true"\n');
  for (const [path, pattern] of [
    [file, /broken\.toml: count: /],
    [join(dir, 'missing.toml'), /cannot read job file .*missing\.toml/],
  ] as const) {
    const result = await quorate('job', 'run', path);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: /);
    assert.match(result.stderr, pattern);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  }
  assert.match(await ok('job', 'list'), /^no jobs/);
});

test('job run, status, list, logs and stop; node list, drain and eligibility', async () => {
  const file = join(dir, 'greeter.toml');
  const script = `console.log(${JSON.stringify(greeting)}); setInterval(() => {}, 1000)`;
  await writeFile(file, `name = "greeter"\ncommand = ${JSON.stringify(process.execPath)}\nargs = ["-e", ${JSON.stringify(script)}]\n[resources]\nmemory_mb = 16\n`);
  assert.equal(await ok('job', 'run', file), 'job greeter submitted: version 1 (placing 1 allocation)\n');
  assert.equal(await ok('job', 'run', file), 'job greeter unchanged (version 1)\n');
  const deadline = Date.now() + waitMs;
  while (!/ running /.test(await ok('job', 'status', 'greeter'))) {
    assert.ok(Date.now() < deadline, 'the allocation did not start within 20 s');
    await sleep(200);
  }
  assert.match(await ok('job', 'status', 'greeter'), /^job greeter {2}version 1 {2}count 1\nID +NODE +VERSION +DESIRED +STATUS +RESTARTS +PORTS +MESSAGE\ngreeter\.0\.\S+ +1 +1 +run +running +0 +-\n$/);
  assert.match(await ok('job', 'list'), /\ngreeter +1 +1\/1 +running\n$/);
  assert.deepEqual(JSON.parse(await ok('--json', 'job', 'status')), JSON.parse(await ok('job', 'list', '--json')));
  assert.match(await ok('node', 'list'), /^1 +server +ready +\d+\.\d GB free +1 job\n$/);

  // The registered API address is the configured one, not this test's ephemeral port, so the
  // logs are checked through the client (test/client/workload.test.ts); here only the lookup.
  const alloc = await quorate('job', 'logs', 'greeter', '--alloc', 'greeter.9.none');
  assert.match(alloc.stderr, /^error: job greeter has no allocation greeter\.9\.none/);

  assert.match(await ok('node', 'drain', '1', '--no-wait'), /^1 draining/);
  assert.match(await ok('node', 'eligibility', '1', '--disable'), /^1 ineligible/);
  assert.match(await ok('node', 'list'), / jobs? +\(draining, ineligible\)\n$/);
  assert.match(await ok('node', 'drain', '1', '--disable'), /^1 no longer draining/);
  assert.match(await ok('node', 'eligibility', '1', '--enable'), /^1 eligible/);
  assert.equal((await quorate('node', 'eligibility', '1')).code, 1, 'one of --enable and --disable is required');

  assert.match(await ok('job', 'stop', 'greeter'), /^job greeter stopping/);
  assert.match(await ok('job', 'list'), /\ngreeter +1 +0\/1 +stopped\n$/);
  // Without --no-wait, drain returns once the node runs nothing: here once the stopped copy has ended.
  assert.match(await ok('node', 'drain', '1'), /^1 draining: .*\n(1 draining: 1 allocation still to move \(greeter\.0\.\S+ stopping\), ETA .*\n)?1 drained: it runs no allocations\n$/);
  assert.match(await ok('node', 'drain', '1', '--disable'), /^1 no longer draining/);
});
