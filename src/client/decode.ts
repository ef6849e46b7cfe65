/**
 * The API's JSON answers (api/wire.ts) into the client's types: byte fields back to bytes,
 * errors into QuorateClientError. Answers are checked just enough that a wrong server (or a
 * proxy's HTML error page) gives a bad_response error rather than undefined fields later.
 */
import type { IncomingMessage } from 'node:http';
import { bytesFromJson, type ErrorJson, type KeyValueJson, type TxnOpResultJson } from '../api/index.js';
import type { KeyValue } from '../state/index.js';
import { QuorateClientError } from './errors.js';
import { readAnswer, type Endpoint, type HttpAnswer } from './transport.js';
import type { KvList, TxnOpResult } from './types.js';

type Json = Readonly<Record<string, unknown>>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function badResponse(what: string): QuorateClientError {
  return new QuorateClientError('bad_response', `unexpected answer from the server: ${what}`);
}

/** The answer's JSON object, whatever its status. */
export function bodyJson(answer: HttpAnswer): Json {
  let json: unknown;
  try {
    json = JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw badResponse(`HTTP ${answer.status} with a body that is not JSON`);
  }
  if (!isRecord(json)) throw badResponse(`HTTP ${answer.status} with JSON that is not an object`);
  return json;
}

/** The answer's JSON object; an error status becomes a thrown QuorateClientError. */
export function answerJson(answer: HttpAnswer): Json {
  const json = bodyJson(answer);
  if (answer.status >= 400) {
    const error = json as Partial<ErrorJson>;
    if (typeof error.code !== 'string' || typeof error.message !== 'string') throw badResponse(`HTTP ${answer.status} without an error code`);
    throw new QuorateClientError(error.code, error.message, answer.status, typeof error.revision === 'number' ? error.revision : null);
  }
  return json;
}

/** The error an answer other than 200 to a stream's request carries (e.g. compacted, bad_request). */
export async function refusal(response: IncomingMessage, endpoint: Endpoint, what: string, timeoutMs: number): Promise<Error> {
  const status = response.statusCode ?? 0;
  try {
    answerJson({ status, body: await readAnswer(response, endpoint, Date.now() + timeoutMs) });
    return new QuorateClientError('bad_response', `${what} was refused with HTTP ${status}`);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

export function bytesField(json: Json, field: string): Uint8Array {
  const bytes = bytesFromJson(json, field);
  if (bytes instanceof Uint8Array) return bytes;
  throw badResponse(bytes === undefined ? `${field} is missing` : bytes.problem);
}

export function numberField(json: Json, field: string): number {
  const value = json[field];
  if (typeof value !== 'number') throw badResponse(`${field} is not a number`);
  return value;
}

export function arrayField(json: Json, field: string): readonly Json[] {
  const value = json[field];
  if (!Array.isArray(value) || !value.every(isRecord)) throw badResponse(`${field} is not a list of objects`);
  return value;
}

export function keyValue(json: Json | KeyValueJson): KeyValue {
  const record = json as Json;
  return {
    key: bytesField(record, 'key'),
    value: bytesField(record, 'value'),
    createRevision: numberField(record, 'createRevision'),
    modRevision: numberField(record, 'modRevision'),
    version: numberField(record, 'version'),
    lease: numberField(record, 'lease'),
  };
}

export function kvList(json: Json): KvList {
  return { kvs: arrayField(json, 'kvs').map(keyValue), count: numberField(json, 'count'), more: json.more === true, revision: numberField(json, 'revision') };
}

export function txnOpResult(json: Json): TxnOpResult {
  const op = (json as Partial<TxnOpResultJson>).op;
  switch (op) {
    case 'put':
      return { op, revision: numberField(json, 'revision') };
    case 'delete':
      return { op, deleted: numberField(json, 'deleted'), revision: numberField(json, 'revision') };
    case 'get':
      return { op, ...kvList(json) };
    default:
      throw badResponse('a txn response has no known op');
  }
}
