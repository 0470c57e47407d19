// The ops console shell at ops.{base}/ops. Same frame as the workspace, ops accent + "Ops" label.
//
// Home is a grid of work queues, one card per entry of QUEUES (`[data-queue="key"]`), drawn as a
// skeleton and filled from one answer of GET /api/ops/home: a count and the first items of each
// queue, or `available: false` with the reason when the installation has no source for it yet
// (the card says so, never 0). The page refreshes when it regains focus and every minute while
// visible (live updates over SSE are not wired here).
// Other ops pages plug in like workspace pages: add `name: () => import('./pages/ops-<name>.js')`
// to PAGES; the module exports `render(root, ctx)`.
import { api, get, isUnauthenticated, maybeSignedIn } from './api.js';
import { $, $$, el, mount, emptyState, bindText, problemBanner, showBanner, setTitle, statusBadge, icon } from './ui.js';
import { initShell, markCurrentNav, setUnread } from './shell.js';
import { connectLive, onLive } from './live.js';

export const PAGES = {
  plugins: () => import('./pages/ops-plugins.js'),
  automations: () => import('./pages/ops-automations.js'),
  workspaces: () => import('./pages/ops-workspaces.js'),
  search: () => import('./pages/ops-search.js'),
  clients: () => import('./pages/ops-clients.js'),
  billing: () => import('./pages/ops-billing.js'),
  platform: () => import('./pages/ops-platform.js'),
  launch: () => import('./pages/ops-launch.js'),
};

const SECTIONS = {
  workspaces: { title: 'Workspaces', icon: 'workspaces', empty: 'No workspaces yet', body: 'Every workspace on this installation, with its client, members and automations.' },
  automations: { title: 'Automations', icon: 'automations', empty: 'No automations match', body: 'Automations across every workspace, filterable by status.' },
  clients: { title: 'Clients', icon: 'clients', empty: 'No clients yet', body: 'Clients group workspaces and carry contacts, an account manager and a health status.' },
  plugins: { title: 'Plugins', icon: 'plugins', empty: 'No plugins installed', body: 'Pricing and validation plugins: upload, shadow-run, activate, roll back.' },
  billing: { title: 'Billing', icon: 'billing', empty: 'Nothing to bill yet', body: 'Pricing overrides per workspace and the monthly billing periods.' },
  outbox: { title: 'Outbox', icon: 'outbox', empty: 'The outbox is empty', body: 'Emails and platform notifications waiting to be delivered, with their retries.' },
};

/** The work queues of the home page, in order: what each card says and links to. */
export const QUEUES = {
  intake: { title: 'New requests', icon: 'automations', desc: 'Automations in intake: help shape the blueprint, then send them to pricing.', empty: 'No new requests.', href: '/ops/automations?status=intake_in_progress' },
  quotes: { title: 'Quotes to review', icon: 'quote', desc: 'Waiting for a price: automatic pricing failed or the client asked for a revision.', empty: 'No quotes waiting for review.', href: '/ops/automations?status=needs_pricing' },
  qa: { title: 'QA', icon: 'flask', desc: 'Builds in QA testing.', empty: 'Nothing in QA right now.', href: '/ops/launch' },
  deploys: { title: 'Deploys', icon: 'rocket', desc: 'Ready to launch: credentials checked, waiting to go live.', empty: 'No deploys pending.', href: '/ops/launch' },
  blocked: { title: 'Blocked', icon: 'ban', desc: 'Stopped automations, with the reason and what clears them.', empty: 'Nothing is blocked.', href: '/ops/automations?status=blocked' },
  overdue: { title: 'Overdue tasks', icon: 'clock', desc: 'Ops tasks open for more than a week.', empty: 'No overdue tasks.', href: '/ops/automations' },
  emails: { title: 'Undelivered emails', icon: 'outbox', desc: 'Held without a mail server, failed, or waiting for a retry.', empty: 'Every email was delivered.', href: '/ops/outbox' },
  threads: { title: 'Unread threads', icon: 'message', desc: 'Client messages nobody on ops has read yet.', empty: 'All caught up.', href: '/ops/automations' },
  plugins: { title: 'Plugin failures', icon: 'plugins', desc: 'Pricing or validation plugin runs that failed.', empty: 'No plugin failures.', href: '/ops/plugins' },
  events: { title: 'Platform events', icon: 'rocket', desc: 'Deploy, pause and resume events not delivered to the platform.', empty: 'Every event was delivered.', href: '/ops/platform' },
};

/** One queue card in its loading state (`[data-queue="key"]`); renderQueue fills it. */
function queueCard(key, q) {
  return el('section', { class: 'card queue-card', 'aria-labelledby': `q-${key}`, 'aria-busy': 'true', dataset: { queue: key } },
    el('div', { class: 'card-header' },
      el('div', {},
        el('h2', { class: 'queue-title', id: `q-${key}` }, icon(q.icon), q.title),
        el('p', { class: 'queue-desc' }, q.desc),
      ),
      el('span', { class: 'queue-count', dataset: { count: '' } }, el('span', { class: 'skeleton skeleton-line w-25', 'aria-hidden': 'true' }), el('span', { class: 'sr-only' }, 'Loading')),
    ),
    el('div', { class: 'card-body', dataset: { queueBody: '' } },
      el('span', { class: 'skeleton-line w-80', 'aria-hidden': 'true' }),
      el('span', { class: 'skeleton-line w-60', 'aria-hidden': 'true' }),
    ),
    el('div', { class: 'card-footer' }, el('a', { class: 'btn btn-ghost btn-sm', href: q.href }, 'Open queue', icon('arrowRight'))),
  );
}

/** The count on a card: the number shown, and for screen readers what it counts. */
function setCount(card, shown, spoken) {
  const count = $('[data-count]', card);
  mount(count, el('span', { 'aria-hidden': 'true' }, shown), el('span', { class: 'sr-only' }, spoken));
  return count;
}

/** Where a queue item leads: the automation's ops page, where the next move is one click. */
const itemHref = (x) => `/ops/automations/${encodeURIComponent(x.tenant_id)}/${encodeURIComponent(x.automation_id)}`;

/** Fills a card from its queue of GET /api/ops/home (`null`: the answer lacked it). */
function renderQueue(card, q) {
  const body = $('[data-queue-body]', card);
  card.removeAttribute('aria-busy');
  if (!q || !q.available) {
    card.dataset.available = 'false';
    setCount(card, '—', 'Not available').classList.add('is-zero');
    mount(body, el('p', { class: 'queue-empty is-locked', dataset: { unavailable: '' } }, icon('info'), q?.unavailable_reason || 'Not available on this installation yet.'));
    return;
  }
  card.dataset.available = 'true';
  const n = q.count;
  setCount(card, String(n), `${n} ${n === 1 ? 'item' : 'items'}`).classList.toggle('is-zero', n === 0);
  const items = q.items || [];
  if (!n) {
    mount(body, el('p', { class: 'queue-empty' }, icon('checkCircle'), QUEUES[card.dataset.queue]?.empty || 'Nothing here.'));
    return;
  }
  if (!items.length) {
    mount(body, el('p', { class: 'queue-empty is-locked' }, icon('info'), `${n} waiting. Open the queue to see them.`));
    return;
  }
  mount(body, el('ul', { class: 'queue-list' },
    items.map((x) => el('li', {},
      el('span', {},
        el('a', { href: itemHref(x), dataset: { queueItem: x.automation_id } }, x.title || x.automation),
        el('span', { class: 'cell-sub' }, x.title ? `${x.automation} · ${x.workspace}` : x.workspace)),
      x.status ? statusBadge(x.status) : null,
    )),
  ));
}

/** The queue cards, drawn as skeletons as soon as the page boots. */
function drawQueues() {
  const grid = $('[data-queues]');
  if (grid) mount(grid, Object.entries(QUEUES).map(([key, q]) => queueCard(key, q)));
}

/** Loads every queue in one call; returns the error when the session can't read them. */
async function loadQueues() {
  let home;
  try {
    home = await get('/api/ops/home');
  } catch (err) {
    if (isUnauthenticated(err) || err?.status === 403) return err;
    for (const card of $$('[data-queue]')) renderQueue(card, { available: false, unavailable_reason: "We couldn't load this queue. It will retry shortly." });
    return null;
  }
  const byKey = Object.fromEntries((home.queues || []).map((q) => [q.key, q]));
  for (const card of $$('[data-queue]')) renderQueue(card, byKey[card.dataset.queue] || null);
  return null;
}

/** Refreshes the queues when the page comes back into view and every minute while it is seen. */
function keepQueuesFresh() {
  let last = Date.now();
  const refresh = () => { if (document.visibilityState === 'visible' && Date.now() - last > 5000) { last = Date.now(); loadQueues(); } };
  window.addEventListener('focus', refresh);
  document.addEventListener('visibilitychange', refresh);
  setInterval(() => { if (document.visibilityState === 'visible') { last = Date.now(); loadQueues(); } }, 60000);
}

function renderSection(root, name) {
  const s = SECTIONS[name] || { title: 'Page not found', icon: 'compass', empty: "This page doesn't exist", body: 'The link may be out of date.' };
  setTitle(s.title, 'Ops');
  mount(root,
    el('div', { class: 'page-header' }, el('div', {}, el('h1', {}, s.title), el('p', {}, s.body))),
    emptyState({ icon: s.icon, title: s.empty, body: 'Nothing to show yet.', action: { label: 'Back to work queues', href: '/ops' } }),
  );
}

export function pageName(path = location.pathname) {
  if (document.body.dataset.page) return document.body.dataset.page;
  return path.replace(/^\/ops\/?/, '').split('/')[0] || 'home';
}

function wireLogout() {
  for (const b of $$('[data-logout]')) {
    b.addEventListener('click', async () => {
      try { await api('/api/ops/auth/logout', { method: 'POST', body: {} }); } catch { /* leaving anyway */ }
      location.assign('/ops/login');
    });
  }
}

export async function boot() {
  initShell();
  wireLogout();
  markCurrentNav();
  bindText(document, { user_name: 'Ops' });
  for (const n of $$('[data-user-initials]')) n.textContent = 'OP';
  setUnread(0);
  if (pageName() === 'home') drawQueues();

  // Not signed in (or a session that ended): the ops login, then back here.
  const toLogin = () => location.replace(`/ops/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  if (!maybeSignedIn()) return toLogin();
  try {
    const me = await get('/api/ops/me');
    bindText(document, { user_name: me.email, user_email: `${me.role === 'ops_admin' ? 'Ops admin' : 'Ops'} · ${me.email}` });
    for (const n of $$('[data-user-initials]')) n.textContent = (me.email || 'OP').slice(0, 2).toUpperCase();
    // Live updates from every workspace (pages subscribe to what they show).
    connectLive('/api/ops/events');
  } catch (err) {
    if (isUnauthenticated(err)) return toLogin();
  }

  const root = $('[data-page-root]');
  const name = pageName();
  const ctx = { root, api, path: location.pathname, params: new URLSearchParams(location.search), setTitle: (...p) => setTitle(...p, 'Ops') };

  if (name === 'home') {
    setTitle('Work queues', 'Ops');
    const authError = await loadQueues();
    if (authError) {
      for (const card of $$('[data-queue]')) {
        setCount(card, '—', 'Not available until you sign in').classList.add('is-zero');
        mount($('[data-queue-body]', card), el('p', { class: 'queue-empty is-locked' }, icon('lock'), 'Sign in to see this queue.'));
      }
      bindText(document, { user_name: 'Not signed in' });
      for (const n of $$('[data-user-initials]')) n.textContent = '?';
      showBanner({
        kind: 'warning',
        title: 'Sign in to the ops console',
        detail: 'Queues stay empty until you sign in with an ops account.',
        actions: [el('a', { class: 'btn btn-primary btn-sm', href: '/ops/login' }, 'Log in')],
        dismissible: false,
      });
      return;
    }
    keepQueuesFresh();
    // Any live event may move a count: reload the queues, at most once a second.
    let pending = null;
    onLive('*', () => {
      if (pending) return;
      pending = setTimeout(() => { pending = null; loadQueues(); }, 300);
    });
    return;
  }
  const loader = PAGES[name];
  if (!loader) return renderSection(root, name);
  try {
    const mod = await loader();
    await mod.render(root, ctx);
  } catch (err) {
    problemBanner(err);
  }
}

boot();
