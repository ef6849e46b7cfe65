/**
 * The structured logger (src/util/log.ts), as pure functions over an injected clock and sink:
 * the JSON and the readable line formats, level filtering, the choice of format from whether
 * standard error is a terminal, fields computed per line (the term), and secrets redacted by
 * field name at any depth.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, formatTextLine, isLogLevel, logFormatFor, withFields, type LogFormat } from '../../src/util/log.js';

// A local time, so that the readable format (local clock) shows 10:00:01.234 in any time zone.
const at = new Date(2024, 0, 1, 10, 0, 1, 234);

function capture(format: LogFormat, minLevel: 'debug' | 'info' | 'warn' | 'error' = 'info'): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger({ format, minLevel, fields: { node: 'node-1' }, write: (line) => lines.push(line), now: () => at }) };
}

test('JSON lines: time, level, msg, the base fields, then the line fields', () => {
  const { lines, log } = capture('json');
  log.log('info', 'leader elected', { leader: 'node-1', term: 7 });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]?.endsWith('\n'));
  assert.deepEqual(JSON.parse(lines[0] ?? ''), { time: at.toISOString(), level: 'info', msg: 'leader elected', node: 'node-1', leader: 'node-1', term: 7 });
});

test('readable lines: clock, padded level, node, term and request id first, other fields as JSON', () => {
  const { lines, log } = capture('text');
  log.log('info', 'leader elected', { term: 7, leader: 'node-1' });
  log.log('error', 'internal error: boom', { requestId: 'abc-123', term: 7 });
  log.log('warn', 'plain');
  assert.deepEqual(lines, [
    '10:00:01.234 INFO  node-1 t=7 leader elected {"leader":"node-1"}\n',
    '10:00:01.234 ERROR node-1 t=7 req=abc-123 internal error: boom\n',
    '10:00:01.234 WARN  node-1 plain\n',
  ]);
  assert.equal(formatTextLine(at, 'debug', 'request', { method: 'GET', status: 200 }), '10:00:01.234 DEBUG request {"method":"GET","status":200}\n');
});

test('lines below the minimum level are dropped; info is the default', () => {
  const levels = ['debug', 'info', 'warn', 'error'] as const;
  for (const [i, minLevel] of levels.entries()) {
    const { lines, log } = capture('json', minLevel);
    for (const level of levels) log.log(level, level);
    assert.deepEqual(
      lines.map((line) => (JSON.parse(line) as { level: string }).level),
      levels.slice(i),
    );
  }
  const lines: string[] = [];
  const log = createLogger({ write: (line) => lines.push(line) });
  log.log('debug', 'hidden');
  log.log('info', 'shown');
  assert.equal(lines.length, 1);
  assert.ok(isLogLevel('warn') && !isLogLevel('verbose') && !isLogLevel('INFO'));
});

test('a terminal gets readable lines; a file, a pipe or an unknown stream gets JSON', () => {
  assert.equal(logFormatFor({ isTTY: true }), 'text');
  assert.equal(logFormatFor({ isTTY: false }), 'json');
  assert.equal(logFormatFor({}), 'json');
});

test('withFields adds fields computed for each line, and they win over the line own', () => {
  const { lines, log } = capture('json');
  let term = 3;
  const withTerm = withFields(log, () => ({ term }));
  withTerm.log('info', 'first');
  term = 4;
  withTerm.log('info', 'second', { term: 99, other: true });
  const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(
    parsed.map((p) => p.term),
    [3, 4],
  );
  const [, second] = parsed;
  assert.equal(second?.other, true);
  assert.equal(second.node, 'node-1');
});

test('secrets are redacted by field name at any depth; errors show their message', () => {
  const { lines, log } = capture('json');
  const secret = 'qrt_s3cr3t';
  log.log('warn', 'join refused', { token: secret, tokenId: 'abc', nested: { adminToken: secret, clusterSecret: secret, keyPem: secret, password: secret, authorization: `Bearer ${secret}` }, error: new Error('bad token') });
  assert.ok(!lines[0]?.includes(secret), lines[0]);
  const parsed = JSON.parse(lines[0] ?? '') as { token: string; tokenId: string; nested: Record<string, string>; error: string };
  assert.equal(parsed.token, '[redacted]');
  assert.equal(parsed.tokenId, 'abc', 'a token id is no secret');
  assert.deepEqual(Object.values(parsed.nested), Array(5).fill('[redacted]'));
  assert.equal(parsed.error, 'bad token');
  const text = capture('text');
  text.log.log('info', 'x', { secret, big: 12n });
  assert.equal(text.lines[0], '10:00:01.234 INFO  node-1 x {"secret":"[redacted]","big":"12"}\n');
});
