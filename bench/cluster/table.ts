/**
 * The cluster benchmark's table: one row per workload metric, one column per target, the ratio
 * of the first target to the second, then the columns of reference figures (the floor). A
 * target that was skipped or failed, or a row it does not measure, shows '-'.
 */
import type { Cell, Row, TargetReport } from './run.js';

/** columns names the compared targets; the ratio column is the first one's figure over the second's; extra columns follow it. */
export function formatTable(rows: readonly Row[], columns: readonly [string, string], extra: readonly string[], reports: readonly TargetReport[]): string {
  const byName = new Map(reports.map((r) => [r.name, r.cells]));
  const header = ['workload', ...columns, `${columns[0]}/${columns[1]}`, ...extra];
  const lines = rows.map((row) => {
    const [a, b] = columns.map((c) => byName.get(c)?.get(row.label));
    const ratio = a !== undefined && b !== undefined && b.value !== 0 ? (a.value / b.value).toFixed(2) : '-';
    return [row.label, formatCell(a, row.digits), formatCell(b, row.digits), ratio, ...extra.map((c) => formatCell(byName.get(c)?.get(row.label), row.digits))];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (fields: readonly string[]): string =>
    fields.map((f, i) => (i === 0 ? f.padEnd(widths[i] ?? 0) : f.padStart(widths[i] ?? 0))).join('   ');
  return [format(header), ...lines.map(format)].join('\n');
}

function formatCell(cell: Cell | undefined, digits: number): string {
  if (cell === undefined) return '-';
  const fmt = (n: number): string => n.toFixed(digits);
  return cell.range === undefined ? fmt(cell.value) : `${fmt(cell.value)} [${fmt(cell.range[0])}-${fmt(cell.range[1])}]`;
}
