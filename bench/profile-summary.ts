/**
 * `node dist/bench/profile-summary.js DIR [--top N]`: where the CPU time of profiled nodes went.
 * Reads every V8 `.cpuprofile` in DIR (written by `npm run bench -- cluster --profile DIR`) and
 * prints, over all of them, the share of samples by self time per function and per source file,
 * so that a change can be aimed at the largest cost without opening DevTools.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
const [dir] = positionals;
const top = Number(values.top);
if (dir === undefined || !(top > 0)) {
  process.stderr.write('usage: profile-summary DIR [--top N]\n');
  process.exit(2);
}

const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;
const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
for (const file of files) {
  const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const id of profile.samples) {
    const frame = nodes.get(id)?.callFrame;
    if (frame === undefined) continue;
    const source = shortUrl(frame.url);
    add(byFunction, `${frame.functionName || '(anonymous)'}  ${source}${frame.url === '' ? '' : `:${frame.lineNumber + 1}`}`);
    add(byFile, source);
    total++;
  }
}
process.stdout.write(`${files.length} profiles, ${total} samples\n`);
print('self time by function', byFunction);
print('self time by file', byFile);

function add(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Paths relative to the package or node_modules; V8's own entries like (garbage collector) keep their name. */
function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  return dist >= 0 ? url.slice(dist + '/dist/'.length) : url.replace(/^file:\/\//, '');
}

function print(title: string, counts: Map<string, number>): void {
  process.stdout.write(`\n${title}\n`);
  const sorted = [...counts].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, n] of sorted) process.stdout.write(`${((100 * n) / total).toFixed(1).padStart(5)}%  ${key}\n`);
}
