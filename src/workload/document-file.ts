/** Reading an operator's file (a job, the fencing setup): `.json` files are JSON, anything else TOML. */
import { readFile } from 'node:fs/promises';
import { parse as parseToml } from 'smol-toml';
import { QuorateError } from '../util/errors.js';

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
