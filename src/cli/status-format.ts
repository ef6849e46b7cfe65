/**
 * Seed 000's `cluster status` layout:
 *
 *   cluster:  3 nodes
 *   quorum:   ok (2/3 required)
 *   leader:   node-1 (10.0.0.1)
 *   peers:
 *     - node-1  10.0.0.1  server  ready  applied=1247
 *   last_update: 0.4s ago
 *
 * followed by one `warning:` line per problem. Learners show as `learner`; members that did
 * not answer as `unreachable` with no applied index.
 */
import type { ClusterStatusJson } from '../api/index.js';

function host(address: string): string {
  const colon = address.lastIndexOf(':');
  return (colon < 0 ? address : address.slice(0, colon)).replace(/^\[(.*)\]$/, '$1');
}

export function formatStatus(view: ClusterStatusJson): string {
  const leader = view.members.find((m) => m.id === view.leader);
  const quorum = `${view.quorum.ok ? 'ok' : 'degraded'} (${view.quorum.required}/${view.voters} required)`;
  const rows = view.members.map((m) => [m.id, host(m.address), m.arbiter ? 'arbiter' : m.voter ? 'server' : 'learner', m.state, m.report === null ? 'applied=?' : `applied=${m.report.appliedIndex}`]);
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(cell.length, w[i] ?? 0)), []);
  const lines = [
    `cluster:  ${view.members.length} ${view.members.length === 1 ? 'node' : 'nodes'}`,
    `quorum:   ${quorum}`,
    `leader:   ${leader === undefined ? 'none' : `${leader.id} (${host(leader.address)})`}`,
    'peers:',
    ...rows.map((row) => `  - ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}`),
    `last_update: ${view.lastUpdateMs === null ? 'never' : `${(view.lastUpdateMs / 1000).toFixed(1)}s ago`}`,
    ...view.warnings.map((w) => `warning: ${w}`),
  ];
  return `${lines.join('\n')}\n`;
}
