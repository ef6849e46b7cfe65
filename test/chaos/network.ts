/**
 * Real network faults for the fault-injection suite (issue 6). The suite runs inside a private
 * network namespace (`unshare -n`, as root), so its rules touch nothing else on the machine;
 * there nftables drops packets between node addresses. Peer connections bind to the node's
 * advertise address (127.0.0.x), so a rule on source and destination address cuts exactly one
 * direction of one link. Clients must bind to an address of their own (clientAddress) so that
 * cutting the links between nodes leaves the clients' paths as they are, as when a leader is
 * cut off from its peers while clients can still reach it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';

const run = promisify(execFile);
const netnsEnv = 'QUORATE_PRIVATE_NETNS';
const table = 'quorate_chaos';
/** The address clients of the cluster send from: never a node's. */
export const clientAddress = '127.0.0.250';

/** Whether this process runs in the private namespace that runInPrivateNetwork made. */
export function inPrivateNetwork(): boolean {
  return process.env[netnsEnv] === '1';
}

/**
 * Runs `node script args` in a new, private network namespace with only a loopback interface.
 * Needs root (or CAP_SYS_ADMIN) and util-linux's unshare; the child must call
 * `prepareNetwork()` first.
 */
export function runInPrivateNetwork(script: string, args: readonly string[]): ChildProcess {
  // The child is a program of its own, not a file of the test runner's (see cli.ts).
  const env: NodeJS.ProcessEnv = { ...process.env, [netnsEnv]: '1' };
  delete env.NODE_TEST_CONTEXT;
  return spawn('unshare', ['--net', '--', process.execPath, script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Runs a program of this suite in a private namespace and returns the JSON report it prints as
 * its last stdout line (what the node --test files check); fails with its stderr otherwise.
 */
export async function reportFromPrivateNetwork<T>(script: string, args: readonly string[], what: string): Promise<T> {
  const child = runInPrivateNetwork(script, args);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await once(child, 'close');
  const line = stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`no report from the ${what}: ${stderr}`);
  return JSON.parse(line) as T;
}

/**
 * A suite program's entry: outside the namespace it runs itself inside one (passing its output
 * through, resolving with its exit code); inside, it prepares the network and runs `body`.
 */
export async function inOwnNetwork(script: string, body: () => Promise<number>): Promise<number> {
  if (!inPrivateNetwork()) {
    const child = runInPrivateNetwork(script, process.argv.slice(2));
    child.stdout?.pipe(process.stdout);
    child.stderr?.pipe(process.stderr);
    return new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  }
  await prepareNetwork();
  return body();
}

/** Inside the namespace: bring up loopback and install an empty rule table. */
export async function prepareNetwork(): Promise<void> {
  if (!inPrivateNetwork()) throw new Error('prepareNetwork() outside a private network namespace would change the host; use runInPrivateNetwork');
  await run('ip', ['link', 'set', 'lo', 'up']);
  await nft(`table inet ${table} {\n  chain output { type filter hook output priority 0; policy accept; }\n}\n`);
}

/** Drops every packet from `from` to `to` (one direction); the reverse direction is untouched. */
export async function cutOneWay(from: string, to: string): Promise<void> {
  await nft(`add rule inet ${table} output ip saddr ${from} ip daddr ${to} drop\n`);
}

/** Both directions between every address of one group and every address of each other group. */
export async function partition(groups: readonly (readonly string[])[]): Promise<void> {
  const rules: string[] = [];
  for (const [i, group] of groups.entries()) {
    for (const [j, other] of groups.entries()) {
      if (i === j) continue;
      for (const from of group) for (const to of other) rules.push(`add rule inet ${table} output ip saddr ${from} ip daddr ${to} drop`);
    }
  }
  await nft(`${rules.join('\n')}\n`);
}

/** Removes every rule: all links work again. */
export async function heal(): Promise<void> {
  await nft(`flush chain inet ${table} output\n`);
}

async function nft(script: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('nft', ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === 'ENOENT' ? 'nft is not installed: apt-get install nftables (as .ci/run does)' : error.message)),
    );
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`nft failed (${String(code)}): ${stderr.trim()}`))));
    child.stdin.end(script);
  });
}
