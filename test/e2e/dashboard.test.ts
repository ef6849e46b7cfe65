/**
 * The web dashboard (issue 10) in a real browser: Debian's chromium, headless, driven by
 * playwright-core.
 * - Against three real `quorate server` processes on 127.0.63.1-3: a wrong token is sent back to
 *   the login with the API's message; opened on a follower and logged into with the admin token,
 *   the page shows the three nodes and the leader; after the leader is SIGKILLed it shows, without
 *   a reload, the new leader and the killed node as unreachable, with `cluster status`'s warning;
 *   when the node serving the page is killed too, the page says it lost contact.
 * - Against fixed API answers (dashboard-fixtures.ts, typed with the API's JSON types): what a
 *   3-node cluster without workers or jobs cannot show: a lagging member, a learner, workers (one
 *   lost), a job short of a copy with where its copies run and why one cannot be placed, events
 *   newest first and asked for from `next`; logging out.
 * Any script error or Content-Security-Policy violation in the page fails a test. Screenshots
 * go to test-artifacts/ (git-ignored); QUORATE_UPDATE_SCREENSHOT=1 also writes the README's
 * docs/dashboard.png. Without /usr/bin/chromium the tests fail and say how to install it.
 */
import assert from 'node:assert/strict';
import { access, constants, copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { pageHtml } from '../../src/api/ui/page.js';
import { appJs } from '../../src/api/ui/script.js';
import { styleCss } from '../../src/api/ui/style.js';
import { clusterStatus, events, jobs, lagWarning, nodes, webJob } from './dashboard-fixtures.js';
import { until } from './cli-nodes.js';
import { adminToken, apiPort, E2eCluster } from './harness.js';
import { chromiumTrustingCa } from './trusting-chromium.js';

const chromiumPath = '/usr/bin/chromium';
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const artifacts = join(repoRoot, 'test-artifacts');
/** How long the page may take to show a change: an election, a poll and a status report's timeout, with room to spare. */
const showWithinMs = 10_000;

interface Browsing {
  readonly page: Page;
  /** Script errors and Content-Security-Policy violations seen so far. */
  readonly pageErrors: string[];
}

/** A page in headless chromium, closed after the test; fails when chromium is not installed. */
async function openPage(t: TestContext, args: readonly string[]): Promise<Browsing> {
  try {
    await access(chromiumPath, constants.X_OK);
  } catch {
    assert.fail(`the dashboard test needs Debian's chromium at ${chromiumPath}: install it with \`apt-get install -y chromium\` (.ci/run does)`);
  }
  await mkdir(artifacts, { recursive: true });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', ...args] });
  t.after(() => browser.close());
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/.test(message.text())) pageErrors.push(message.text());
  });
  return { page, pageErrors };
}

async function logIn(page: Page, token: string): Promise<void> {
  await page.fill('#token', token);
  await page.click('#login button[type=submit]');
}

/** Waits until the text of `selector` matches; returns how long that took. */
async function waitForText(page: Page, selector: string, pattern: RegExp, what: string): Promise<number> {
  const began = Date.now();
  let seen = '';
  while (Date.now() - began < showWithinMs) {
    seen = await page.locator(selector).innerText({ timeout: 1000 }).catch(() => '(absent)');
    if (pattern.test(seen)) return Date.now() - began;
    await sleep(100);
  }
  assert.fail(`${what}: ${selector} should match ${String(pattern)} within ${showWithinMs} ms, but shows: ${seen}`);
}

/** `text` as a regular expression that matches exactly it. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One node's row in the nodes table, cell by cell: node, address, role, state, applied, lag, last contact, jobs. */
async function nodeRow(page: Page, id: string): Promise<string[]> {
  return page.locator(`#nodes tr[data-node="${id}"] td`).allInnerTexts();
}

test('the dashboard shows the cluster live: a leader killed is seen without reload, then lost contact', async (t) => {
  const cluster = await E2eCluster.create({ block: 63 });
  t.after(() => cluster.stop());
  await cluster.startAll();
  const leader = await cluster.waitForLeader([0, 1, 2]);
  const follower = leader === 0 ? 1 : 0;
  const { page, pageErrors } = await openPage(t, await chromiumTrustingCa(cluster));

  const response = await page.goto(`${cluster.api(follower)}/ui`);
  assert.equal(response?.status(), 200);
  assert.match(response.headers()['content-security-policy'] ?? '', /script-src 'self'/);

  await logIn(page, 'not-a-token');
  await waitForText(page, '#login-error', /not valid for this cluster/, 'a wrong token is refused with the API message');

  await logIn(page, adminToken);
  await waitForText(page, '#leader', new RegExp(`^${leader + 1} \\(${literal(cluster.host(leader))}\\)$`), 'the leader');
  assert.equal(await page.locator('#nodes tbody tr').count(), 3, 'three nodes');
  assert.equal((await nodeRow(page, String(leader + 1)))[2], 'leader');
  assert.equal((await nodeRow(page, String(follower + 1)))[6], 'this node');
  assert.match(await page.locator('#quorum').innerText(), /^ok \(2\/3 required\)$/);
  await page.screenshot({ path: join(artifacts, 'dashboard-healthy.png'), fullPage: true });

  // A reload would lose this marker: the page must change by itself.
  await page.evaluate('window.quorateNoReload = true');
  await cluster.signal(leader, 'SIGKILL');
  const killedId = String(leader + 1);
  const newLeaderMs = await waitForText(page, '#leader', new RegExp(`^(?!${killedId} )\\d+ \\(`), 'a new leader');
  const unreachableMs = await waitForText(page, `#nodes tr[data-node="${killedId}"]`, /unreachable|lost/, 'the killed node');
  await waitForText(page, '#warnings', new RegExp(`warning: ${killedId} \\(${literal(cluster.host(leader))}:\\d+\\) is unreachable`), "cluster status's warning");
  const newLeaderId = (await page.locator('#leader').innerText()).split(' ')[0] ?? '';
  await waitForText(page, '#events li:has-text("leader_elected") >> nth=0', new RegExp(`\\b${newLeaderId}\\b`), 'the new leader elected, newest event first');
  assert.equal(await page.evaluate('window.quorateNoReload'), true, 'the page was not reloaded');
  t.diagnostic(`after SIGKILL of the leader the page showed a new leader in ${newLeaderMs} ms and the killed node unreachable in ${unreachableMs} ms`);
  await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });
  if (process.env.QUORATE_UPDATE_SCREENSHOT === '1') {
    await mkdir(join(repoRoot, 'docs'), { recursive: true });
    await copyFile(join(artifacts, 'dashboard.png'), join(repoRoot, 'docs', 'dashboard.png'));
  }

  await cluster.signal(follower, 'SIGKILL');
  await waitForText(page, '#contact', new RegExp(`^lost contact with ${literal(cluster.host(follower))}:${apiPort} since .* open the dashboard on another node$`), 'the serving node killed');
  await page.screenshot({ path: join(artifacts, 'dashboard-lost-contact.png'), fullPage: true });
  assert.deepEqual(pageErrors, [], 'no script error or CSP violation');
});

test('the dashboard draws lagging members, learners, workers, jobs and events, and logs out', async (t) => {
  const { page, pageErrors } = await openPage(t, []);
  const answers = new Map<string, object>([
    ['/v1/cluster/status', clusterStatus],
    ['/v1/nodes', nodes],
    ['/v1/jobs', jobs],
    ['/v1/jobs/web', webJob],
  ]);
  const assets = new Map([
    ['/ui', { contentType: 'text/html', body: pageHtml }],
    ['/ui/app.js', { contentType: 'text/javascript', body: appJs }],
    ['/ui/style.css', { contentType: 'text/css', body: styleCss }],
  ]);
  const eventsAskedFrom: string[] = [];
  await page.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    const asset = assets.get(url.pathname);
    if (asset !== undefined) return route.fulfill({ status: 200, ...asset });
    if (url.pathname === '/v1/events') {
      const from = url.searchParams.get('from') ?? '';
      eventsAskedFrom.push(from);
      return route.fulfill({ json: from === '0' ? events : { events: [], next: events.next } });
    }
    const answer = answers.get(url.pathname);
    assert.equal(route.request().headers().authorization, 'Bearer read-token', `${url.pathname} carries the token`);
    return answer === undefined ? route.fulfill({ status: 404, json: { code: 'not_found', message: 'no such route' } }) : route.fulfill({ json: answer });
  });
  await page.goto('http://dashboard.test/ui');
  await logIn(page, 'read-token');
  await waitForText(page, '#events', /node_lost[\s\S]*leader_elected/, 'events, newest first');
  assert.deepEqual(await nodeRow(page, '2'), ['2', '10.0.0.2', 'follower', 'lagging', '1200', '300', '0.0s ago', '-']);
  assert.equal(await page.getAttribute('#nodes tr[data-node="2"]', 'class'), 'warn');
  assert.equal((await nodeRow(page, '3'))[2], 'learner');
  assert.deepEqual(await nodeRow(page, '10'), ['10', '10.0.0.10', 'worker', 'lost', '-', '-', '4.2s ago', '1']);
  assert.equal(await page.getAttribute('#nodes tr[data-node="10"]', 'class'), 'bad');
  assert.equal(await page.locator('#warnings').innerText(), `warning: ${lagWarning}`);
  assert.deepEqual(await page.locator('#jobs tr[data-job="web"] td').allInnerTexts(), ['web', '2', '2/3', 'degraded', '10 running, 11 running; blocked: copy 2: no node has 64 MB free']);
  assert.equal(await page.getAttribute('#events li:first-child', 'class'), 'bad');
  await waitForText(page, '#contact', /^node 1 at dashboard\.test, updated /, 'the node answering');
  await until('a second poll', () => Promise.resolve(eventsAskedFrom.length >= 2 ? true : null), showWithinMs);
  assert.ok(eventsAskedFrom[0] === '0' && eventsAskedFrom.slice(1).every((from) => from === '2'), `events asked from ${eventsAskedFrom.join(', ')}`);
  await page.screenshot({ path: join(artifacts, 'dashboard-fixtures.png'), fullPage: true });

  await page.click('#logout');
  assert.equal(await page.isVisible('#login'), true);
  assert.equal(await page.isVisible('#dashboard'), false);
  assert.equal(await page.evaluate("sessionStorage.getItem('quorate.token')"), null);
  assert.deepEqual(pageErrors, [], 'no script error or CSP violation');
});
