/**
 * Join tokens as text: a token round-trips through its text form; any changed character is
 * caught by the checksum (a damaged token is never sent to a server); the stored hash matches
 * only the right secret; durations parse with their unit or say what is wrong.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatJoinToken, newJoinToken, parseJoinToken, secretHash, secretMatches } from '../../src/cluster/join-token.js';
import { parseDuration } from '../../src/util/duration.js';
import { QuorateError } from '../../src/util/errors.js';

const fingerprint = `sha256:${'0123456789abcdef'.repeat(4)}`;

test('a token round-trips and carries the CA pin, the id and the secret', () => {
  const token = newJoinToken(fingerprint);
  const text = formatJoinToken(token);
  assert.match(text, /^qrt1_[A-Za-z0-9_-]{92}$/);
  assert.deepEqual(parseJoinToken(`  ${text}\n`), token);
});

test('every single-character change is caught as damage', () => {
  const text = formatJoinToken(newJoinToken(fingerprint));
  for (let i = 'qrt1_'.length; i < text.length; i++) {
    const changed = text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1);
    assert.throws(() => parseJoinToken(changed), (error: unknown) => error instanceof QuorateError && error.code === 'bad_token', `position ${i}`);
  }
  assert.throws(() => parseJoinToken(text.slice(0, -3)), /damaged/);
});

test('the stored hash matches only the secret', () => {
  const hash = secretHash('s3cret');
  assert.ok(secretMatches('s3cret', hash));
  assert.ok(!secretMatches('s3creT', hash));
  assert.ok(!secretMatches('s3cret', 'ab'));
});

test('durations need a unit', () => {
  assert.equal(parseDuration('1h', '--ttl'), 3_600_000);
  assert.equal(parseDuration('90s', '--wait'), 90_000);
  assert.equal(parseDuration('2d', '--ttl'), 172_800_000);
  assert.equal(parseDuration('250ms', 'health.interval'), 250);
  assert.throws(() => parseDuration('60', '--ttl'), /--ttl "60" must be a number and a unit/);
  assert.throws(() => parseDuration('0m', '--ttl'), /--ttl must be positive/);
});
