/** `--labels rack=r1,zone=a` (job constraints and topology warnings use them). */
import { CliError } from './context.js';

export function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const match = /^([A-Za-z0-9._-]{1,63})=([^=,]{0,255})$/.exec(pair);
    if (match === null) throw new CliError(`--labels: "${pair}" is not name=value (for example rack=r1,zone=a)`);
    labels[match[1] ?? ''] = match[2] ?? '';
  }
  return labels;
}
