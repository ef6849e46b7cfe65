/**
 * Plain-text tables for the list commands: each column as wide as its widest cell, a gap after
 * each column (two spaces unless the caller asks for other widths, as `node list` does to keep
 * seed 000's spacing), and no trailing spaces, so an empty last cell leaves no blanks behind.
 */
export function formatTable(rows: readonly (readonly string[])[], gaps: readonly number[] = []): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(cell.length, widths[i] ?? 0)));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0) + ' '.repeat(gaps[i] ?? 2)))
      .join('')
      .trimEnd();
  return rows.map((row) => `${line(row)}\n`).join('');
}
