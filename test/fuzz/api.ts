/**
 * Fuzz properties of the HTTP API (src/api), against a real single-node server on loopback
 * (test/api/single-node.ts). Two kinds of input: well-formed HTTP requests with arbitrary
 * methods, paths, query strings, headers and bodies (http-requests.ts), which must each get a
 * JSON answer with a 2xx or 4xx status (503 `unavailable` only where a static node documents
 * it: it holds no CA); and raw bytes (damaged requests, garbage, protocol oddities), which may
 * also be refused by Node's HTTP parser or dropped, but never answered with a 500. Neither may
 * make the API log an internal error, and after every input the sentinel keys (api-node.ts)
 * must be unchanged; after a whole run the node must still be healthy, write and read a new
 * key, and report a revision no lower than any answer showed.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ApiFuzzNode } from './api-node.js';
import { exchange, type Answer, type Exchange } from './http-exchange.js';
import { fuzzRequest, serialize, type FuzzRequest } from './http-requests.js';
import { fuzzProperty, type FuzzProperty } from './property.js';
import { rawRequest } from './raw-requests.js';

/** A body larger than the smallest limit (1 KiB) may be refused by closing the connection. */
const documentedOversizeBytes = 1024;
const answerTimeoutMs = 10_000;

function assertNoNewLog(node: ApiFuzzNode, before: number): void {
  assert.deepEqual(node.logged.slice(before), [], 'the API logged an internal error');
}

function isDocumentedUnavailable(answer: Answer, json: unknown): boolean {
  return answer.status === 503 && (json as { code?: unknown }).code === 'unavailable';
}

/** A JSON answer: an object; an error carries a code and a message. */
function assertJsonAnswer(node: ApiFuzzNode, answer: Answer): void {
  const json = JSON.parse(answer.body.toString('utf8')) as unknown;
  assert.ok(typeof json === 'object' && json !== null && !Array.isArray(json), 'the answer is not a JSON object');
  node.noteRevision(json);
  assert.ok((answer.status >= 200 && answer.status < 300) || (answer.status >= 400 && answer.status < 500) || isDocumentedUnavailable(answer, json), `status ${answer.status}: ${answer.body.toString()}`);
  if (answer.status >= 400) {
    const { code, message } = json as { code?: unknown; message?: unknown };
    assert.ok(typeof code === 'string' && code !== '' && typeof message === 'string' && message !== '', `an error without code and message: ${answer.body.toString()}`);
  }
}

const otherContentTypes = ['application/x-ndjson', 'application/octet-stream', 'text/plain; charset=utf-8'];

function assertRequestAnswered(node: ApiFuzzNode, request: FuzzRequest, outcome: Exchange): void {
  if (outcome.kind === 'silent') assert.fail(`no answer within ${answerTimeoutMs} ms`);
  if (outcome.kind === 'dropped') {
    assert.ok(request.body.length > documentedOversizeBytes, `the connection was dropped without an answer (${outcome.error ?? 'closed'})`);
    return;
  }
  const { answer } = outcome;
  const type = answer.headers.get('content-type');
  if (request.method === 'HEAD') assert.ok(answer.status < 500, `status ${answer.status}`);
  else if (type === 'application/json') assertJsonAnswer(node, answer);
  else assert.ok(answer.status === 200 && type !== undefined && otherContentTypes.includes(type), `status ${answer.status} with content-type ${type ?? 'none'}`);
}

/** Raw bytes: an answer from the API or from Node's parser, or a closed connection; never a 500 or silence. */
function assertRawAnswered(node: ApiFuzzNode, outcome: Exchange, head: boolean): void {
  if (outcome.kind === 'silent') assert.fail(`no answer and no close within ${answerTimeoutMs} ms of a half-closed request`);
  if (outcome.kind === 'dropped') return;
  const { answer } = outcome;
  if (!head && answer.headers.get('content-type') === 'application/json') assertJsonAnswer(node, answer);
  else assert.ok(answer.status < 500, `status ${answer.status}: ${answer.body.toString()}`);
}

function withHealthCheck(node: ApiFuzzNode, property: FuzzProperty): FuzzProperty {
  return {
    ...property,
    async check(runs, seed) {
      const outcome = await property.check(runs, seed);
      if (outcome.failure !== null) return outcome;
      try {
        await node.assertHealthy();
        return outcome;
      } catch (error) {
        return { ...outcome, failure: `after ${outcome.runs} inputs (seed ${seed}) the node is not right: ${(error as Error).message}` };
      }
    },
  };
}

let inputs = 0;

/**
 * Each input comes from an address of its own in 127.64.0.0/10 (any 127/8 address reaches
 * loopback on Linux), so that bad credentials, which the API counts per client address, never
 * lock out the inputs after them, nor the checks, which come from 127.0.0.1.
 */
function nextSource(): string {
  const n = inputs++ % (1 << 22);
  return `127.${64 + (n >> 16)}.${(n >> 8) & 0xff}.${n & 0xff}`;
}

/** Inputs per property in `npm test`: about a second each. */
const runs = 300;

export function apiProperties(node: ApiFuzzNode): FuzzProperty[] {
  const requests = fc.asyncProperty(fuzzRequest, async (request) => {
    const before = node.logged.length;
    const outcome = await exchange(node.port, serialize(request), { head: request.method === 'HEAD', endAfterSending: false, timeoutMs: answerTimeoutMs, from: nextSource() });
    assertNoNewLog(node, before);
    assertRequestAnswered(node, request, outcome);
    await node.assertSentinelsIntact();
  });
  const rawBytes = fc.asyncProperty(rawRequest, async (bytes) => {
    const before = node.logged.length;
    // The first answer has no body when the first request is a HEAD.
    const head = bytes.subarray(0, 5).toString('latin1') === 'HEAD ';
    const outcome = await exchange(node.port, bytes, { head, endAfterSending: true, timeoutMs: answerTimeoutMs, from: nextSource() });
    assertNoNewLog(node, before);
    assertRawAnswered(node, outcome, head);
    await node.assertSentinelsIntact();
  });
  return [
    withHealthCheck(node, fuzzProperty('well-formed requests with arbitrary methods, paths, queries, headers and bodies get a JSON 2xx/4xx', runs, requests)),
    withHealthCheck(node, fuzzProperty('raw bytes (damaged requests, garbage, protocol oddities) never get a 500 or silence', runs, rawBytes)),
  ];
}
