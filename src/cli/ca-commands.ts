/**
 * `quorate cluster ca show`: the cluster CA certificate for clients elsewhere, as a file for
 * --ca-file or a fingerprint for --ca-pin. It reads the local node's data directory or, with
 * --config, a static bootstrap's TOML (the CA derived from its cluster secret, or its ca_file).
 *
 * `quorate cluster ca rotate`: begin a CA rotation (server/ca-rotation.ts) and follow it until
 * the old CA is dropped, printing each step and what it waits for; `--status` only shows it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { CaRotationJson } from '../api/index.js';
import { CliError, clientFor, globalOptions, print, printJson } from './context.js';

const pollMs = 1_000;

async function caPem(configPath: string | undefined, dataDir: string | undefined): Promise<string> {
  if (configPath !== undefined) {
    const { loadServerConfig } = await import('../server/config.js');
    const { tlsMaterial } = await import('../server/tls-material.js');
    const config = loadServerConfig(configPath);
    if (config.tls.kind === 'secret') {
      const { deriveCa } = await import('../cluster/certs.js');
      return (await deriveCa(config.tls.secret, config.clusterName)).certPem;
    }
    return (await tlsMaterial(config)).caPem;
  }
  const { DataDir, resolveDataDir } = await import('../cluster/data-dir.js');
  const dir = new DataDir(resolveDataDir(dataDir));
  if (!(await dir.isInitialized())) throw new CliError(`${dir.path} holds no node; run this on a node, or pass --config with a static bootstrap's TOML file`);
  return (await dir.readTls()).caCertPem;
}

async function show(options: { config?: string }, command: Command): Promise<void> {
  const global = globalOptions(command);
  const { certFingerprint, splitCertificates } = await import('../cluster/certs.js');
  const pem = await caPem(options.config, global.dataDir);
  const fingerprints = splitCertificates(pem).map(certFingerprint);
  if (global.json === true) {
    printJson({ caCertificate: pem, fingerprints });
    return;
  }
  print(pem);
  for (const fingerprint of fingerprints) process.stderr.write(`fingerprint: ${fingerprint} (for --ca-pin)\n`);
}

function describeRotation(view: CaRotationJson): string {
  if (view.step === null) return `no CA rotation has run; the cluster trusts ${view.cas.join(', ')}\n`;
  const steps = { trust: 'step 1/3: every node is to trust the new CA too', switch: 'step 2/3: every node is to get a certificate from the new CA', done: 'done: the cluster trusts only the new CA' };
  const waiting = view.waitingFor.length === 0 ? '' : `; waiting for: ${view.waitingFor.join('; ')}`;
  return `${steps[view.step]} (${view.cas.at(-1) ?? ''})${waiting}\n`;
}

async function rotate(options: { status?: true; wait: string }, command: Command): Promise<void> {
  const global = globalOptions(command);
  let client = await clientFor(global);
  if (options.status === true) {
    const view = await client.caRotation();
    if (global.json === true) printJson(view);
    else print(describeRotation(view));
    return;
  }
  const waitMs = Number(options.wait) * 1000;
  if (!Number.isFinite(waitMs) || waitMs < 0) throw new CliError(`--wait takes seconds, got ${JSON.stringify(options.wait)}`);
  let view = await client.rotateCa();
  let shown = '';
  const deadline = Date.now() + waitMs;
  for (;;) {
    const line = describeRotation(view);
    if (global.json !== true && line !== shown) print(line);
    shown = line;
    if (view.step === 'done' || Date.now() >= deadline) break;
    await sleep(pollMs);
    // The servers switch to certificates from the new CA: trust what the rotation trusts.
    client = client.trusting(view.caPem);
    view = await client.caRotation().catch(() => view);
  }
  if (global.json === true) printJson(view);
  if (view.step !== 'done' && waitMs > 0) {
    throw new CliError(`the rotation goes on without this command (\`quorate cluster ca rotate --status\` shows it); it has not finished within ${options.wait} s: ${view.waitingFor.join('; ')}`);
  }
}

export function addCaCommands(cluster: Command): void {
  const ca = cluster.command('ca').description('the cluster certificate authority');
  ca.command('show')
    .description('print the CA certificate (PEM, for --ca-file; its fingerprint for --ca-pin goes to standard error)')
    .option('--config <file>', "a static bootstrap node's TOML file instead of the data directory")
    .action((options: { config?: string }, command: Command) => show(options, command));
  ca.command('rotate')
    .description('replace the cluster CA with a new one, node by node, without downtime (servers made by `cluster init`/`join`)')
    .option('--status', 'only show where a rotation is')
    .option('--wait <seconds>', 'follow the rotation this long (0: begin it and return)', '300')
    .action((options: { status?: true; wait: string }, command: Command) => rotate(options, command));
}
