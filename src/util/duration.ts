import { QuorateError } from './errors.js';

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** "500ms", "90s", "30m", "1h", "2d" in milliseconds; `option` names the flag or field in the error. */
export function parseDuration(text: string, option: string): number {
  const match = /^([0-9]{1,6})(ms|s|m|h|d)$/.exec(text.trim());
  if (match === null) throw new QuorateError('invalid_argument', `${option} "${text}" must be a number and a unit, like 500ms, 30s, 30m, 1h or 2d`);
  const ms = Number(match[1]) * unitMs[match[2] as keyof typeof unitMs];
  if (ms <= 0) throw new QuorateError('invalid_argument', `${option} must be positive, not "${text}"`);
  return ms;
}
