/**
 * GET /ui and its assets: the web dashboard (issue 10), served by every node from its API.
 * The page holds no data, so it is public; everything it shows it fetches from the API with
 * the token the operator logs in with. The assets are TypeScript modules exporting their text
 * (tsc copies nothing else into dist/), so there is no build step and nothing to download.
 *
 * The Content-Security-Policy allows only this origin's own script, style and API: no inline
 * script, no other site, no framing. A token kept in the page's sessionStorage is then out of
 * reach of anything injected into the page, and the page renders API data as text, never HTML.
 */
import { Buffer } from 'node:buffer';
import { ApiError } from '../errors.js';
import type { RequestContext } from '../handler.js';
import { pageHtml } from './page.js';
import { appJs } from './script.js';
import { styleCss } from './style.js';

interface Asset {
  readonly contentType: string;
  readonly body: Buffer;
}

const assets: ReadonlyMap<string, Asset> = new Map([
  ['', { contentType: 'text/html; charset=utf-8', body: Buffer.from(pageHtml) }],
  ['app.js', { contentType: 'text/javascript; charset=utf-8', body: Buffer.from(appJs) }],
  ['style.css', { contentType: 'text/css; charset=utf-8', body: Buffer.from(styleCss) }],
]);

const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  // The login form is handled by the script; the browser itself never submits it anywhere.
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** `/ui`, `/ui/` or `/ui/<asset>`: the capture is the asset's name (absent for the page). */
export function uiAsset(context: RequestContext): Promise<null> {
  context.query.allowOnly([]);
  const name = context.captures[0] ?? '';
  const asset = assets.get(name);
  if (asset === undefined) throw new ApiError('not_found', `the dashboard has no file ${name}`);
  context.response.writeHead(200, {
    'content-type': asset.contentType,
    'content-length': asset.body.byteLength,
    'content-security-policy': contentSecurityPolicy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    // Fetched again on every load, so that after an upgrade the page and the node's API are of one version.
    'cache-control': 'no-cache',
  });
  context.response.end(asset.body);
  return Promise.resolve(null);
}
