/**
 * Reading an operator's file (a job, the fencing setup): `.json` files are JSON, anything else
 * TOML; then checking it field by field, with errors that name the file (`source`) and the field.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseToml } from 'smol-toml';
import type { z } from 'zod';
import { parseDuration } from '../util/duration.js';
import { QuorateError } from '../util/errors.js';

/** A duration field as the file writes it ("10s"). */
export const durationPattern = /^[0-9]{1,6}(ms|s|m|h|d)$/;

/** The parsed document; a QuorateError with `code` naming the file and what is wrong with it otherwise. */
export async function loadDocument(path: string, what: string, code: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new QuorateError(code, `cannot read ${what} ${path}: ${(error as Error).message}`);
  }
  try {
    return path.endsWith('.json') ? (JSON.parse(text) as unknown) : parseToml(text);
  } catch (error) {
    throw new QuorateError(code, `${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'TOML'}: ${(error as Error).message}`);
  }
}

/** The document checked against `schema`, or a QuorateError with `code` naming the first bad field. */
export function validated<S extends z.ZodType>(schema: S, document: unknown, source: string, code: string): z.output<S> {
  const parsed = schema.safeParse(document);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? '(top level)' : issue.path.join('.');
  throw new QuorateError(code, `${source}: ${field}: ${issue?.message ?? 'invalid'}`);
}

/** Milliseconds of a duration field; the error names the file and the field. */
export function durationIn(source: string, code: string): (text: string, field: string) => number {
  return (text, field) => {
    try {
      return parseDuration(text, `${source}: ${field}`);
    } catch (error) {
      throw new QuorateError(code, (error as Error).message);
    }
  };
}
