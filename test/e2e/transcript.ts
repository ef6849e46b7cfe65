/**
 * A record of everything a walkthrough produced, for secrets.test.ts: the stdout and stderr of
 * each `quorate` command and the text of each API answer, each named by what produced it (with
 * the tokens on its command line left out), beside the secrets issued along the way.
 */
import assert from 'node:assert/strict';
import { parseJoinToken } from '../../src/cluster/join-token.js';
import { runCli, type CliResult } from '../cli/run-cli.js';
import type { CliNode } from './cli-nodes.js';
import { httpsText } from './https-request.js';
import { randomSecret, tokenForms, type Output, type Secret } from './secret-scan.js';

export interface RunOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** The label of the secret this command prints, once, by design. */
  readonly issues?: string;
}

export class Transcript {
  readonly outputs: Output[] = [];
  readonly secrets: Secret[] = [];

  /** `quorate --data-dir <node's> ...args`, recorded whatever its outcome. */
  async run(node: CliNode, args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
    const result = await runCli(['--data-dir', node.dataDir, ...args], options.env ?? {});
    const name = `quorate ${redact(args)} on ${node.host}`;
    const allowed = options.issues === undefined ? {} : { allowed: new Set([options.issues]) };
    this.outputs.push({ name: `stdout of ${name}`, text: result.stdout, ...allowed }, { name: `stderr of ${name}`, text: result.stderr, ...allowed });
    return result;
  }

  /** A command that must succeed; its stdout. */
  async ok(node: CliNode, args: readonly string[], options: RunOptions = {}): Promise<string> {
    const result = await this.run(node, args, options);
    assert.equal(result.code, 0, `quorate ${redact(args)} failed: ${result.stderr}`);
    return result.stdout;
  }

  /** A command that must fail with a message matching `why`. */
  async refused(node: CliNode, args: readonly string[], why: RegExp, env: Readonly<Record<string, string>> = {}): Promise<void> {
    const result = await this.run(node, args, { env });
    assert.equal(result.code, 1, `quorate ${redact(args)} should fail`);
    assert.match(result.stderr, why);
  }

  /** GET an API route (HTTPS, verified against `ca`) as text, whatever its status. */
  async get(host: string, path: string, ca: string, token: string | null): Promise<{ status: number; text: string }> {
    const answer = await httpsText(`https://${host}:8080${path}`, { ca, timeoutMs: 5000, ...(token === null ? {} : { headers: { authorization: `Bearer ${token}` } }) });
    this.outputs.push({ name: `GET ${path} on ${host} (${answer.status})`, text: answer.text });
    return answer;
  }

  /** A join token: the whole string, its tail (where the secret is encoded, after the CA pin and id) and its secret. */
  addJoinToken(label: string, token: string): void {
    this.secrets.push(randomSecret(label, parseJoinToken(token).secret, [...tokenForms(token), { form: 'token text after the id', text: token.slice(-36) }]));
  }

  /** An API token `qat1_<id>_<secret>`: its id is public (token lists show it), its secret is not. */
  addAclToken(label: string, token: string): void {
    const secret = /^qat1_[0-9a-f]{16}_(.+)$/.exec(token)?.[1];
    assert.ok(secret !== undefined, `${label} is an API token`);
    this.secrets.push(randomSecret(label, secret, tokenForms(token)));
  }
}

/** A command line for names and failure messages, without the tokens it carries. */
function redact(args: readonly string[]): string {
  return args.map((arg, i) => (['--token', '--api-token', '--admin-token'].includes(args[i - 1] ?? '') ? '<token>' : arg)).join(' ');
}
