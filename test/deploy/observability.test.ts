/**
 * The Grafana dashboard and the Prometheus alert rules in deploy/ (issue 10) against the
 * series a node really exports: the dashboard is valid JSON whose panels cover the list,
 * the rules file has the expected structure (a minimal line-based check: no YAML dependency
 * for one file; `promtool check rules` validates it fully) and the alerts the issue asks for,
 * and every quorate_ series either file names is one the node and its API register, so a
 * renamed metric breaks this test instead of a dashboard in production.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RequestMetrics } from '../../src/api/request-metrics.js';
import type { ApiCountersJson } from '../../src/api/wire.js';
import { NodeMetrics } from '../../src/server/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Every name a scrape can show: each series, and a histogram's _bucket, _sum and _count. */
async function exportedNames(): Promise<Set<string>> {
  const node = new NodeMetrics();
  const api = new RequestMetrics(node.registry, (): ApiCountersJson => {
    throw new Error('not collected here');
  });
  const names = node.registry.getMetricsAsArray().flatMap((m) => (String(m.type) === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => m.name + s) : [m.name]));
  api.close();
  await node.close();
  return new Set(names);
}

function namesIn(text: string): string[] {
  return [...new Set(text.match(/\bquorate_[a-z_]+\b/g) ?? [])];
}

interface Panel {
  readonly type: string;
  readonly title: string;
  readonly targets?: readonly { readonly expr: string }[];
}

test('the Grafana dashboard parses, covers the issue, and uses only exported series', async () => {
  const dashboard = JSON.parse(await readFile(join(root, 'deploy', 'grafana', 'quorate-dashboard.json'), 'utf8')) as { title: string; panels: Panel[]; templating: { list: { name: string }[] } };
  assert.equal(dashboard.title, 'Quorate');
  assert.deepEqual(dashboard.templating.list.map((v) => v.name), ['datasource', 'job']);
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  for (const p of dashboard.panels.filter((p) => p.type !== 'row')) assert.ok((p.targets ?? []).length > 0, `panel ${p.title} has no query`);
  const exported = await exportedNames();
  const used = namesIn(exprs.join('\n'));
  for (const name of used) assert.ok(exported.has(name), `the dashboard uses ${name}, which no node exports`);
  for (const needed of ['quorate_is_leader', 'quorate_term', 'quorate_commit_index', 'quorate_applied_index', 'quorate_proposals_committed_total', 'quorate_wal_fsync_duration_seconds_bucket', 'quorate_replication_lag_entries', 'quorate_api_request_duration_seconds_bucket', 'quorate_job_allocations']) {
    assert.ok(used.includes(needed), `the dashboard does not show ${needed}`);
  }
});

interface Rule {
  readonly alert: string;
  readonly fields: Map<string, string>;
}

/** The rules of the file's one group, each with its `key: value` lines (nested ones included). */
function parseRules(text: string): Rule[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  assert.equal(lines[0], 'groups:');
  assert.match(lines[1] ?? '', /^ {2}- name: \S+$/);
  assert.equal(lines[2], '    rules:');
  const rules: { alert: string; fields: Map<string, string> }[] = [];
  for (const line of lines.slice(3)) {
    const start = /^ {6}- alert: (\w+)$/.exec(line);
    if (start !== null) {
      rules.push({ alert: start[1] ?? '', fields: new Map() });
      continue;
    }
    const field = /^ {8,}(\w+):(?: (.*))?$/.exec(line);
    assert.ok(field !== null && rules.length > 0, `unexpected line in the rules: ${line}`);
    rules[rules.length - 1]?.fields.set(field[1] ?? '', field[2] ?? '');
  }
  return rules;
}

test('the Prometheus alert rules have the issue\'s alerts, each complete, on exported series', async () => {
  const rules = parseRules(await readFile(join(root, 'deploy', 'prometheus', 'quorate-alerts.yml'), 'utf8'));
  const names = rules.map((r) => r.alert);
  for (const needed of ['QuorateQuorumLost', 'QuorateNodeNoLeader', 'QuorateFrequentElections', 'QuorateLaggingFollower', 'QuorateFsyncSlow', 'QuorateNodeCertificateNotRenewed', 'QuorateCaExpiring']) {
    assert.ok(names.includes(needed), `no ${needed} alert`);
  }
  assert.equal(new Set(names).size, names.length, 'alert names are unique');
  const exported = await exportedNames();
  for (const rule of rules) {
    const expr = rule.fields.get('expr') ?? '';
    assert.notEqual(expr, '', `${rule.alert} has no expr`);
    assert.match(rule.fields.get('severity') ?? '', /^(warning|critical)$/, `${rule.alert} has no severity`);
    assert.ok((rule.fields.get('summary') ?? '').length > 0, `${rule.alert} has no summary`);
    for (const name of namesIn(expr)) assert.ok(exported.has(name), `${rule.alert} uses ${name}, which no node exports`);
  }
  assert.match(rules.find((r) => r.alert === 'QuorateFsyncSlow')?.fields.get('expr') ?? '', /histogram_quantile\(0\.99, .*quorate_wal_fsync_duration_seconds_bucket.*\) > 0\.1$/);
});
