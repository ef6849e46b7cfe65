/**
 * File text for the document loaders: TOML-ish lines built from a target's own keys and table
 * names with values of every TOML type (and some that are not TOML), valid documents written
 * as TOML or JSON and then damaged by a few character edits, and plain arbitrary text.
 */
import fc from 'fast-check';
import { stringify as toToml } from 'smol-toml';

const tomlValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)),
  fc.string({ maxLength: 12 }).map((s) => `'${s}'`),
  fc.constantFrom('"10s"', '"500ms"', '"0s"', '"1x"', '"stop"', '"freeze"', '"127.0.0.1:8081"', '"[::1]:9"', '"a=b"', '"""multi\nline"""', '"unterminated'),
  fc.integer().map(String),
  fc.constantFrom('0x1F', '0o17', '0b101', '1_000', '+5', '-0', '9999999999999999999', '1e400', 'inf', '-inf', 'nan', '3.14', '.5', '1.'),
  fc.constantFrom('true', 'false', 'TRUE', '1979-05-27T07:32:00Z', '1979-05-27', '07:32:00', ''),
  fc.constantFrom('[]', '["a", "b"]', '[1, "mixed"]', '[[1], [2]]', '{}', '{ port = "http", path = "/" }', '{ a = 1, a = 2 }', '[', '{'),
);

/** TOML-ish lines with the target's keys and tables, valid or not. */
export function tomlish(keys: readonly string[], tables: readonly string[]): fc.Arbitrary<string> {
  const key = fc.oneof(fc.constantFrom(...keys), fc.constantFrom('"quoted key"', 'a.b', '__proto__', 'constructor', ''), fc.string({ maxLength: 6 }));
  const line = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(key, tomlValue).map(([k, v]) => `${k} = ${v}`) },
    { weight: 2, arbitrary: fc.constantFrom(...tables).map((t) => `[${t}]`) },
    { weight: 1, arbitrary: fc.constantFrom(...tables).map((t) => `[[${t}]]`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  );
  return fc.array(line, { maxLength: 14 }).map((lines) => lines.join('\n'));
}

type Edit = { readonly at: number; readonly kind: 'delete' } | { readonly at: number; readonly kind: 'insert' | 'replace'; readonly text: string };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ at: fc.nat(), kind: fc.constant('delete' as const) }),
  fc.record({ at: fc.nat(), kind: fc.constantFrom('insert' as const, 'replace' as const), text: fc.oneof(fc.constantFrom('"', "'", '[', ']', '{', '}', '=', ',', '\n', '#', '\\', '.', '0', '-'), fc.string({ maxLength: 3 })) }),
);

function applyEdit(text: string, e: Edit): string {
  const at = e.at % (text.length + 1);
  if (e.kind === 'delete') return text.slice(0, at) + text.slice(at + 1);
  return text.slice(0, at) + e.text + text.slice(e.kind === 'replace' ? at + 1 : at);
}

/** The value one time in four, null otherwise (fc.option gives the value five times in six). */
export function sometimes<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });
}

/** A valid document written out, then edited a few times and sometimes cut short. */
export function damagedText(document: fc.Arbitrary<Record<string, unknown>>, format: 'toml' | 'json'): fc.Arbitrary<string> {
  return fc.tuple(document, fc.array(edit, { maxLength: 3 }), sometimes(fc.nat())).map(([doc, edits, cut]) => {
    const text = edits.reduce(applyEdit, format === 'toml' ? toToml(doc) : JSON.stringify(doc, null, 1));
    return cut === null ? text : text.slice(0, cut % (text.length + 1));
  });
}
