/**
 * `quorate acl token create --role read|write|operator|admin [--prefix P]` (prints the token
 * once: treat it as a password), `acl token list` (never secrets) and `acl token revoke ID`.
 * Give a token to a client with `--api-token T` or $QUORATE_API_TOKEN (server/access.ts says what each
 * role may do).
 */
import { Option, type Command } from 'commander';
import { clientFor, globalOptions, print, printJson } from './context.js';

async function create(options: { role: 'read' | 'write' | 'operator' | 'admin'; prefix?: string }, command: Command): Promise<void> {
  const global = globalOptions(command);
  const created = await (await clientFor(global)).createAclToken(options.role, options.prefix);
  if (global.json === true) printJson(created);
  else print(`${created.token}\n`);
}

async function list(command: Command): Promise<void> {
  const global = globalOptions(command);
  const tokens = await (await clientFor(global)).listAclTokens();
  if (global.json === true) printJson(tokens);
  else print(tokens.length === 0 ? 'no API tokens\n' : tokens.map((t) => `${t.id}  ${t.role.padEnd(8)}  ${t.state.padEnd(7)}  prefix ${t.prefix === null ? '(any)' : JSON.stringify(t.prefix)}  created ${t.createdAt}\n`).join(''));
}

async function revoke(id: string, command: Command): Promise<void> {
  const global = globalOptions(command);
  const revoked = await (await clientFor(global)).revokeAclToken(id);
  if (global.json === true) printJson(revoked);
  else print(`API token ${revoked.id} revoked\n`);
}

export function addAclCommands(program: Command): void {
  const token = program.command('acl').description('API tokens: who may call the API, with which role and key prefix').command('token').description('create, list or revoke API tokens (admin)');
  token
    .command('create')
    .description('print a new API token, once (treat it as a password)')
    .addOption(new Option('--role <role>', 'read: KV reads, watches, status; write: + KV writes and leases; operator: + jobs, nodes, fencing; admin: everything').choices(['read', 'write', 'operator', 'admin']).makeOptionMandatory())
    .option('--prefix <prefix>', 'the token may only touch KV keys that start with this')
    .action((options: { role: 'read' | 'write' | 'operator' | 'admin'; prefix?: string }, command: Command) => create(options, command));
  token
    .command('list')
    .description('every API token: id, role, state, prefix (never the secret)')
    .action((_options: object, command: Command) => list(command));
  token
    .command('revoke')
    .description('revoke an API token by its id; calls with it are refused from then on')
    .argument('<id>', 'the token id, as `acl token list` shows it')
    .action((id: string, _options: object, command: Command) => revoke(id, command));
}
