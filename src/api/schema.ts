/** Validating JSON bodies with zod, with messages that name the field at fault. */
import type { z } from 'zod';
import { badRequest } from './errors.js';

function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text === '' ? String(part) : `${text}.${String(part)}`), '');
}

/** The parsed value, or a bad_request ApiError such as "txn body: compares[0].result: ...". */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue === undefined ? '' : pathText(issue.path);
  throw badRequest(`${what}: ${where === '' ? '' : `${where}: `}${issue?.message ?? 'invalid'}`);
}
