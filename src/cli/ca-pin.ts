/**
 * Trust on a pinned fingerprint (k3s/kubeadm style): the CA certificate a server publishes at
 * /v1/cluster/ca is fetched without verifying the server (it is what is being checked), and only
 * if its fingerprint equals the pin is it trusted, for this command's requests. Nothing secret
 * is sent before the check, so a wrong server learns nothing.
 */
import { certFingerprint } from '../cluster/certs.js';
import { getJson } from '../util/https-json.js';
import { CliError } from './context.js';

const caFetchTimeoutMs = 3_000;

/** `host:port`'s published CA certificate, unverified; rejects with what went wrong. */
export async function fetchCaUnverified(server: string): Promise<string> {
  const { status, body } = await getJson(`https://${server}/v1/cluster/ca`, { rejectUnauthorized: false }, caFetchTimeoutMs);
  const ca = (body as { caCertificate?: unknown }).caCertificate;
  if (status !== 200 || typeof ca !== 'string') throw new Error(`answered ${status} without a CA certificate`);
  return ca;
}

/** The CA of the first endpoint that answers, checked against `pin` (`sha256:<hex>`). */
export async function pinnedCa(endpoints: readonly string[], pin: string): Promise<string> {
  if (!/^sha256:[0-9a-f]{64}$/.test(pin)) throw new CliError(`--ca-pin must be sha256:<64 hex digits> (\`quorate cluster ca show\` prints it), got ${JSON.stringify(pin)}`);
  const tried: string[] = [];
  for (const endpoint of endpoints) {
    const url = URL.canParse(endpoint) ? new URL(endpoint) : null;
    if (url === null || url.protocol !== 'https:') throw new CliError(`--ca-pin needs https:// endpoints, got ${endpoint}`);
    let caPem: string;
    try {
      caPem = await fetchCaUnverified(url.host);
    } catch (error) {
      tried.push(`${endpoint} (${(error as Error).message})`);
      continue;
    }
    const presented = certFingerprint(caPem);
    if (presented !== pin) {
      throw new CliError(`CA fingerprint mismatch: --ca-pin is ${pin} but ${endpoint} presents ${presented}. It is another cluster, or something is impersonating the server; nothing was sent`);
    }
    return caPem;
  }
  throw new CliError(`no endpoint answered with its CA certificate; tried ${tried.join(', ')}`);
}
