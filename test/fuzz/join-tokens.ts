/**
 * Fuzz properties of the join token parser (src/cluster/join-token.ts parseJoinToken), which
 * reads what an operator pasted: any text is a token or bad_token; a token that parses is the
 * one its text spells (formatting it again gives the same text); any one character changed,
 * inserted or deleted inside a valid token is refused; valid tokens round-trip.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatJoinToken, parseJoinToken, type JoinToken } from '../../src/cluster/join-token.js';
import { fuzzProperty, parsedOrRefused, type FuzzProperty } from './property.js';

const hex = (bytes: number): fc.Arbitrary<string> => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));

const token: fc.Arbitrary<JoinToken> = fc.record(
  {
    caFingerprint: hex(32).map((h) => `sha256:${h}`),
    id: hex(8),
    secret: fc.uint8Array({ minLength: 24, maxLength: 24 }).map((b) => Buffer.from(b).toString('base64url')),
  },
  { noNullPrototype: true },
);

/** Characters a paste could bring: the other base64 alphabet, padding, spaces, anything. */
const character = fc.oneof(fc.constantFrom('+', '/', '=', '-', '_', ' ', '\t', '\n', '.', '%', '~', 'A', 'a', 'Z', 'z', '0', '9'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));

const whitespace = fc.constantFrom('', ' ', '\n', '\t', ' \r\n');

/** The parsed token is the one the text spells: nothing skipped, nothing reinterpreted. */
function parsesFaithfully(text: string): void {
  const parsed = parsedOrRefused(['bad_token'], () => parseJoinToken(text));
  if (parsed.ok) assert.equal(formatJoinToken(parsed.value), text.trim());
}

const arbitraryText = fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 120 }), fc.string({ maxLength: 92 }).map((s) => `qrt1_${s}`)), parsesFaithfully);

type Damage = { readonly kind: 'change' | 'insert'; readonly at: number; readonly char: string } | { readonly kind: 'delete'; readonly at: number };

const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constantFrom('change' as const, 'insert' as const), at: fc.nat(), char: character }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
);

function damaged(text: string, d: Damage): string | null {
  const at = d.at % (text.length + (d.kind === 'insert' ? 1 : 0));
  if (d.kind === 'delete') return text.slice(0, at) + text.slice(at + 1);
  // Whitespace around a token is trimmed by design, so an insertion there is not damage.
  if (d.kind === 'insert') return /^\s+$/.test(d.char) && (at === 0 || at === text.length) ? null : text.slice(0, at) + d.char + text.slice(at);
  return d.char === text[at] ? null : text.slice(0, at) + d.char + text.slice(at + 1);
}

const oneCharacterDamaged = fc.property(token, damage, (t, d) => {
  const text = damaged(formatJoinToken(t), d);
  fc.pre(text !== null);
  assert.ok(!parsedOrRefused(['bad_token'], () => parseJoinToken(text)).ok, `accepted ${JSON.stringify(text)}`);
});

const roundTrip = fc.property(token, whitespace, whitespace, (t, before, after) => {
  assert.deepEqual(parseJoinToken(before + formatJoinToken(t) + after), t);
});

export const joinTokenProperties: readonly FuzzProperty[] = [
  fuzzProperty('any text: the token it spells, or bad_token', 1000, arbitraryText),
  fuzzProperty('one character changed, inserted or deleted in a valid token is refused', 1000, oneCharacterDamaged),
  fuzzProperty('valid tokens round-trip, with whitespace around them', 300, roundTrip),
];
