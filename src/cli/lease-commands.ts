/**
 * `quorate lease grant|revoke|keepalive`. TTLs are in seconds. `keepalive` renews the lease
 * every third of its TTL until interrupted (as etcdctl lease keep-alive does), or once with
 * --once.
 */
import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { clientFor, globalOptions, parseCount, print, printJson, untilSignal } from './context.js';

function grantCommand(lease: Command): void {
  lease
    .command('grant')
    .description('create a lease that ends TTL seconds after its last keep-alive')
    .argument('<ttl>', 'seconds', parseCount)
    .action(async (ttl: number, _options: object, command: Command) => {
      const global = globalOptions(command);
      const granted = await (await clientFor(global)).leaseGrant(ttl);
      if (global.json === true) printJson(granted);
      else print(`lease ${granted.id} granted with TTL ${granted.ttl}s\n`);
    });
}

function revokeCommand(lease: Command): void {
  lease
    .command('revoke')
    .description('end a lease now, deleting every key attached to it')
    .argument('<id>', 'lease id', parseCount)
    .action(async (id: number, _options: object, command: Command) => {
      const global = globalOptions(command);
      const revoked = await (await clientFor(global)).leaseRevoke(id);
      if (global.json === true) printJson(revoked);
      else print(`lease ${id} revoked (${revoked.deleted} keys deleted)\n`);
    });
}

function keepAliveCommand(lease: Command): void {
  lease
    .command('keepalive')
    .description('keep a lease alive until interrupted')
    .argument('<id>', 'lease id', parseCount)
    .option('--once', 'renew once and exit')
    .action(async (id: number, options: { once?: boolean }, command: Command) => {
      const global = globalOptions(command);
      const client = await clientFor(global);
      const stop = new AbortController();
      void untilSignal().then(() => stop.abort());
      while (!stop.signal.aborted) {
        const state = await client.leaseKeepAlive(id);
        if (global.json === true) printJson(state);
        else print(`lease ${id} kept alive with TTL ${state.grantedTtl}s\n`);
        if (options.once === true) break;
        // A third of the TTL leaves two more tries before the lease would expire.
        await sleep(Math.max(1, state.grantedTtl / 3) * 1000, undefined, { signal: stop.signal }).catch(() => undefined);
      }
    });
}

export function addLeaseCommands(program: Command): void {
  const lease = program.command('lease').description('grant, revoke and keep alive leases');
  grantCommand(lease);
  revokeCommand(lease);
  keepAliveCommand(lease);
}
