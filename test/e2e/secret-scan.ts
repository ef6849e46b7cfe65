/**
 * Looking for secrets in output (issue 9: secrets never appear in logs, errors, metrics or status
 * output). A secret is searched for in every form a careless line of code could print it in: as
 * issued, by its distinctive first and last 16 characters (so a truncated or wrapped copy is
 * found), and for random secrets their bytes as hex, as standard base64 and raw (binary files are
 * read byte for byte as latin1). A private key is searched for by its PEM body, by the body's first
 * two lines (each holds part of the private scalar; the last line is the public key, which the
 * certificate shows anyway) and by the scalar itself. No prefix of the body is used alone: its
 * first 48 characters are the ASN.1 header every P-256 key shares.
 *
 * An output may be allowed the secrets it exists to hold or hand out (`admin.token` holds the admin
 * token; `cluster join-token` prints the token it made), and is still searched for every other one.
 */
import { createPrivateKey } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

export interface Secret {
  /** What it is, for failure messages (never the secret itself). */
  readonly label: string;
  /** Each form it is searched for, by name. */
  readonly needles: readonly { readonly form: string; readonly text: string }[];
}

export interface Output {
  readonly name: string;
  readonly text: string;
  /** Labels of the secrets this output exists to hold or hand out. */
  readonly allowed?: ReadonlySet<string>;
}

/** Shorter needles could match by chance in megabytes of logs; 16 base64 characters are 96 bits. */
const needleCharsMin = 16;

/** A secret made of random bytes in base64url (join, API and admin token secrets). */
export function randomSecret(label: string, base64url: string, extra: readonly { form: string; text: string }[] = []): Secret {
  const bytes = Buffer.from(base64url, 'base64url');
  return secret(label, [
    { form: 'as issued', text: base64url },
    { form: 'first 16 characters', text: base64url.slice(0, needleCharsMin) },
    { form: 'last 16 characters', text: base64url.slice(-needleCharsMin) },
    { form: 'hex', text: bytes.toString('hex') },
    { form: 'standard base64', text: bytes.toString('base64').replace(/=+$/, '') },
    { form: 'raw bytes', text: bytes.toString('latin1') },
    ...extra,
  ]);
}

/** A whole token string (`qrt1_...`, `qat1_...`): the string and its base64 (as in a Basic header). */
export function tokenForms(token: string): { form: string; text: string }[] {
  return [
    { form: 'whole token', text: token },
    { form: 'whole token in base64', text: Buffer.from(token).toString('base64').replace(/=+$/, '') },
  ];
}

/** A PEM private key: its body (unwrapped, and its first two lines, which hold the scalar) and the scalar. */
export function privateKeySecret(label: string, pem: string): Secret {
  const lines = pem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
  const d = createPrivateKey(pem).export({ format: 'jwk' }).d;
  if (d === undefined) throw new Error(`${label} is not a private key`);
  const scalar = randomSecret(label, d);
  return secret(label, [
    { form: 'PEM body', text: lines.join('') },
    ...lines.slice(0, 2).map((line, i) => ({ form: `PEM body line ${i + 1}`, text: line })),
    ...scalar.needles.map((n) => ({ form: `private scalar, ${n.form}`, text: n.text })),
  ]);
}

function secret(label: string, needles: readonly { form: string; text: string }[]): Secret {
  for (const n of needles) if (n.text.length < needleCharsMin) throw new Error(`${label}: the ${n.form} form is too short to search for`);
  return { label, needles };
}

/** Every place a secret turns up where it is not allowed, as "<secret> (<form>) in <output>". */
export function findLeaks(outputs: readonly Output[], secrets: readonly Secret[]): string[] {
  const leaks: string[] = [];
  for (const output of outputs) {
    for (const s of secrets) {
      if (output.allowed?.has(s.label) === true) continue;
      const hit = s.needles.find((n) => output.text.includes(n.text));
      if (hit !== undefined) leaks.push(`${s.label} (${hit.form}) in ${output.name}`);
    }
  }
  return leaks;
}

/** Every file under `root`, byte for byte (latin1), named by its path under `root`. */
export async function readTree(root: string, name: string): Promise<Output[]> {
  const outputs: Output[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    outputs.push({ name: `${name}/${relative(root, path)}`, text: await readFile(path, 'latin1') });
  }
  return outputs;
}
