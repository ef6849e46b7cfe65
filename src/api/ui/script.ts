/**
 * The dashboard's script, served as /ui/app.js (a module; the page has no inline script). It is
 * plain browser JavaScript kept in a string, so neither tsc nor ESLint checks it: it stays small,
 * uses no template literals (they would end this one), and test/e2e/dashboard.test.ts runs it in
 * Chromium against a real cluster and against fixed answers, and fails on any script error.
 *
 * What it does: keep the token the operator logs in with in sessionStorage (gone when the tab
 * closes), ask this node's API every second (cluster status, nodes, jobs, events; each in a loop
 * of its own) and redraw. A 401 or 403 sends the operator back to the login with the API's message. When this node stops
 * answering, the page says so, greys out the last data and keeps asking. The words are the CLI's
 * (src/cli/status-format.ts, node-list.ts, job-format.ts), so the page and `quorate cluster status`
 * name a problem the same way; everything from the API is written as text, never as HTML.
 */
export const appJs = `const tokenKey = 'quorate.token';
const pollMs = 1000;
// Longer than the 1 s a member gets to answer a status report, so one unreachable member
// never makes this node look unreachable.
const requestTimeoutMs = 4000;
const eventsShownMax = 100;
const jobsDetailedMax = 50;
const problemEvents = new Set(['node_lost', 'node_fenced', 'node_down', 'quorum_lost', 'job_failed']);

class AuthError extends Error {}
class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// Each login starts a session; a poll that finds the session changed (logout) stops.
let session = 0;
let lostSince = null;
let latest = { status: null, nodes: null, nodesProblem: '' };
let events = [];
let eventsNext = 0;
let eventsRoute = true;

const byId = (id) => document.getElementById(id);

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function tableRow(cells, className) {
  const row = element('tr', undefined, className);
  row.append(...cells.map((text) => element('td', text)));
  return row;
}

function setText(id, text, className) {
  const node = byId(id);
  node.textContent = String(text);
  node.className = className || '';
}

function clock(time) {
  return new Date(time).toLocaleTimeString([], { hour12: false });
}

function ago(ms) {
  return ms === null ? 'never' : (ms / 1000).toFixed(1) + 's ago';
}

function host(address) {
  const colon = address.lastIndexOf(':');
  return (colon < 0 ? address : address.slice(0, colon)).replace(/^\\[(.*)\\]$/, '$1');
}

async function api(path) {
  const token = sessionStorage.getItem(tokenKey) || '';
  const response = await fetch(path, { headers: { authorization: 'Bearer ' + token }, cache: 'no-store', signal: AbortSignal.timeout(requestTimeoutMs) });
  const body = await response.json().catch(() => ({}));
  const message = typeof body.message === 'string' ? body.message : 'HTTP ' + response.status;
  // After too many failed attempts even a valid token is refused for a minute: back to the login too.
  if (response.status === 401 || response.status === 403 || body.code === 'too_many_attempts') throw new AuthError(message);
  if (!response.ok) throw new HttpError(response.status, message);
  return body;
}

/** Every job with its allocations (the first jobsDetailedMax of them); a job that went away meanwhile is skipped. */
async function jobs() {
  const list = (await api('/v1/jobs')).jobs;
  const details = await Promise.all(list.slice(0, jobsDetailedMax).map((job) => api('/v1/jobs/' + encodeURIComponent(job.name)).catch((error) => {
    if (error instanceof AuthError) throw error;
    return null;
  })));
  return { list, details };
}

/** The events since the last poll; a node without the events route has none to show. */
async function newEvents() {
  if (!eventsRoute) return;
  try {
    const answer = await api('/v1/events?from=' + eventsNext);
    // Events are numbered per node process: a next below ours means the node restarted; ask for all it holds.
    if (answer.next < eventsNext) {
      events = [];
      eventsNext = 0;
      return;
    }
    events = events.concat(answer.events).slice(-eventsShownMax);
    eventsNext = answer.next;
  } catch (error) {
    if (!(error instanceof HttpError) || error.status !== 404) throw error;
    eventsRoute = false;
  }
}

function renderHealth(view) {
  const leader = view.members.find((m) => m.id === view.leader);
  setText('quorum', (view.quorum.ok ? 'ok' : 'degraded') + ' (' + view.quorum.required + '/' + view.voters + ' required)', view.quorum.ok ? 'ok' : 'bad');
  setText('leader', leader === undefined ? 'none' : leader.id + ' (' + host(leader.address) + ')', leader === undefined ? 'bad' : '');
  setText('term', view.term);
  setText('last-update', ago(view.lastUpdateMs));
  byId('warnings').replaceChildren(...view.warnings.map((w) => element('li', 'warning: ' + w)));
}

function memberRole(member, view) {
  if (member.arbiter) return 'arbiter';
  if (!member.voter) return 'learner';
  return member.id === view.leader ? 'leader' : 'follower';
}

/**
 * A member's row: its own report, and what the leader's job scheduler says of it (lost, down)
 * when it runs jobs; jobs are '?' when no leader answered for them, '-' for a member that runs none.
 */
function memberRow(member, view, bestApplied, byNode) {
  const node = byNode === null ? undefined : byNode.get(member.id);
  const applied = member.report === null ? null : member.report.appliedIndex;
  const state = node === undefined || node.status === 'ready' ? member.state : member.state + ' (' + node.status + ')';
  const bad = member.state === 'unreachable' || state !== member.state;
  const row = tableRow([
    member.id,
    host(member.address),
    memberRole(member, view),
    state,
    applied === null ? '?' : applied,
    applied === null ? '?' : bestApplied - applied,
    member.id === view.observer ? 'this node' : ago(member.lastContactMs),
    byNode === null ? '?' : node === undefined ? '-' : node.jobs,
  ], bad ? 'bad' : member.state === 'lagging' ? 'warn' : '');
  row.dataset.node = member.id;
  return row;
}

function workerRow(node) {
  const row = tableRow([node.id, host(node.address), 'worker', node.status, '-', '-', ago(node.lastHeartbeatMs), node.jobs], node.status === 'ready' ? '' : 'bad');
  row.dataset.node = node.id;
  return row;
}

/** The members in the cluster view's order, then the workers; nodes is null when no leader answered for them. */
function renderNodes(view, nodes) {
  const byNode = nodes === null ? null : new Map(nodes.map((node) => [node.id, node]));
  const bestApplied = Math.max(0, ...view.members.map((m) => (m.report === null ? 0 : m.report.appliedIndex)));
  const memberIds = new Set(view.members.map((m) => m.id));
  const workers = (nodes || []).filter((node) => node.role === 'worker' && !memberIds.has(node.id));
  byId('nodes').tBodies[0].replaceChildren(...view.members.map((m) => memberRow(m, view, bestApplied, byNode)), ...workers.map(workerRow));
}

/** What a job's copies are doing, in job-format.ts's words. */
function jobState(job) {
  if (job.stopped) return 'stopped';
  if (job.allocations.running >= job.count) return 'running';
  if (job.allocations.pending > 0) return 'starting';
  return 'degraded';
}

function jobRow(job, detail) {
  const where = detail === null ? '?' : detail.allocations.filter((a) => a.desired === 'run').map((a) => a.node + ' ' + a.status).join(', ');
  const blocked = detail === null ? [] : detail.blocked.map((b) => 'blocked: copy ' + b.index + ': ' + b.reason);
  const state = jobState(job);
  const row = tableRow([job.name, job.version, job.allocations.running + '/' + job.count, state, [where || '-', ...blocked].join('; ')], state === 'degraded' ? 'bad' : '');
  row.dataset.job = job.name;
  return row;
}

function renderJobs(answer) {
  const rows = answer.list.slice(0, jobsDetailedMax).map((job, i) => jobRow(job, answer.details[i]));
  byId('jobs').tBodies[0].replaceChildren(...rows);
  const hidden = answer.list.length - rows.length;
  setText('jobs-problem', answer.list.length === 0 ? 'no jobs' : hidden > 0 ? hidden + ' more jobs: see quorate job list' : '', 'muted');
}

function renderEvents() {
  const items = events.slice().reverse().map((event) => {
    const item = element('li', undefined, problemEvents.has(event.type) ? 'bad' : '');
    // Spaces between the parts keep a copied line readable; the stylesheet aligns them.
    item.append(element('time', clock(event.time)), ' ', element('span', event.type, 'type'), ' ', element('span', event.message));
    return item;
  });
  byId('events').replaceChildren(...items);
  setText('events-problem', items.length === 0 ? 'no events' : '', 'muted');
}

/** Grey out a section whose request failed: its last drawing stays, for what it is worth. */
function stale(id, result) {
  byId(id).closest('section').classList.toggle('stale', result.status === 'rejected');
}

/** A part with a problem line of its own: drawn when its request succeeded, else the reason is shown. */
function part(result, id, problemId, draw) {
  stale(id, result);
  if (result.status === 'rejected') setText(problemId, 'not refreshed: ' + result.reason.message, 'bad');
  else draw(result.value);
}

function showContact(status) {
  if (status.status === 'fulfilled') {
    lostSince = null;
    setText('contact', 'node ' + status.value.observer + ' at ' + location.host + ', updated ' + clock(Date.now()));
  } else if (status.reason instanceof HttpError) {
    setText('contact', location.host + ' answered: ' + status.reason.message, 'bad');
  } else {
    lostSince = lostSince || Date.now();
    setText('contact', 'lost contact with ' + location.host + ' since ' + clock(lostSince) + ' (retrying every second): open the dashboard on another node', 'bad');
  }
}

/** The newest cluster status and node list: the nodes table needs both, and they arrive apart. */
function showNodes() {
  if (latest.status === null) return;
  renderNodes(latest.status, latest.nodes);
  setText('nodes-problem', latest.nodesProblem, 'warn');
}

function showStatus(result) {
  showContact(result);
  stale('quorum', result);
  stale('nodes', result);
  if (result.status === 'rejected') return;
  latest.status = result.value;
  renderHealth(result.value);
  showNodes();
}

function showNodeList(result) {
  latest.nodes = result.status === 'fulfilled' ? result.value.nodes : null;
  latest.nodesProblem = result.status === 'rejected' ? 'jobs per node unknown: ' + result.reason.message : '';
  showNodes();
}

function settle(promise) {
  return promise.then((value) => ({ status: 'fulfilled', value }), (reason) => ({ status: 'rejected', reason }));
}

/**
 * Ask and show one source every pollMs until the session ends. Each source has its own loop:
 * a request that waits for a dead leader (the node list) must not hold up the others.
 */
async function poll(current, load, show) {
  while (current === session) {
    const started = Date.now();
    const result = await settle(load());
    if (current !== session) return;
    if (result.status === 'rejected' && result.reason instanceof AuthError) return logout(result.reason.message);
    byId('dashboard').hidden = false;
    try {
      show(result);
    } catch (error) {
      setText('contact', 'the dashboard failed: ' + error.message, 'bad');
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, pollMs - (Date.now() - started))));
  }
}

function start() {
  session += 1;
  lostSince = null;
  latest = { status: null, nodes: null, nodesProblem: '' };
  events = [];
  eventsNext = 0;
  eventsRoute = true;
  byId('login').hidden = true;
  byId('logout').hidden = false;
  setText('login-error', '');
  void poll(session, () => api('/v1/cluster/status'), showStatus);
  void poll(session, () => api('/v1/nodes'), showNodeList);
  void poll(session, jobs, (result) => part(result, 'jobs', 'jobs-problem', renderJobs));
  void poll(session, newEvents, (result) => part(result, 'events', 'events-problem', renderEvents));
}

function logout(message) {
  session += 1;
  sessionStorage.removeItem(tokenKey);
  byId('dashboard').hidden = true;
  byId('logout').hidden = true;
  byId('login').hidden = false;
  setText('contact', '');
  setText('login-error', message || '', 'bad');
  byId('token').focus();
}

byId('login').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = byId('token').value.trim();
  if (token === '') return;
  sessionStorage.setItem(tokenKey, token);
  byId('token').value = '';
  start();
});
byId('logout').addEventListener('click', () => logout(''));
if (sessionStorage.getItem(tokenKey)) start();
else logout('');
`;
