// The ops console shell at ops.{base}/ops. Same frame as the workspace, ops accent + "Ops" label.
//
// Home is a grid of work queues, one card per entry of QUEUES (`[data-queue="key"]`), drawn as a
// skeleton and filled by its loader: an array of items (count + first few listed) or null when
// there is no source yet (the card shows its calm empty state).
// Other ops pages plug in like workspace pages: add `name: () => import('./pages/ops-<name>.js')`
// to PAGES; the module exports `render(root, ctx)`.
import { api, get, isUnauthenticated, maybeSignedIn } from './api.js';
import { $, $$, el, mount, list, emptyState, bindText, problemBanner, showBanner, setTitle, statusBadge, icon } from './ui.js';
import { initShell, markCurrentNav, setUnread } from './shell.js';

export const PAGES = {
  plugins: () => import('./pages/ops-plugins.js'),
  automations: () => import('./pages/ops-automations.js'),
  workspaces: () => import('./pages/ops-workspaces.js'),
  search: () => import('./pages/ops-search.js'),
};

const SECTIONS = {
  workspaces: { title: 'Workspaces', icon: 'workspaces', empty: 'No workspaces yet', body: 'Every workspace on this installation, with its client, members and automations.' },
  automations: { title: 'Automations', icon: 'automations', empty: 'No automations match', body: 'Automations across every workspace, filterable by status.' },
  clients: { title: 'Clients', icon: 'clients', empty: 'No clients yet', body: 'Clients group workspaces and carry contacts, an account manager and a health status.' },
  plugins: { title: 'Plugins', icon: 'plugins', empty: 'No plugins installed', body: 'Pricing and validation plugins: upload, shadow-run, activate, roll back.' },
  outbox: { title: 'Outbox', icon: 'outbox', empty: 'The outbox is empty', body: 'Emails and platform notifications waiting to be delivered, with their retries.' },
};

const byStatus = (status) => async () => list(await get('/api/ops/automations', { query: { status, limit: 50 } }));
const noSourceYet = async () => null;

/**
 * The work queues of the home page, in order: what each card says and links to, and its loader.
 * Loaders throw ApiError on failure; they return null when there is no source yet.
 */
export const QUEUES = {
  quotes: { title: 'Quotes to review', icon: 'quote', desc: 'Priced and waiting for an ops check before the client sees them.', empty: 'No quotes waiting for review.', href: '/ops/automations?status=needs_pricing', load: byStatus('needs_pricing') },
  qa: { title: 'QA', icon: 'flask', desc: 'Builds in QA testing.', empty: 'Nothing in QA right now.', href: '/ops/automations?status=qa_testing', load: byStatus('qa_testing') },
  deploys: { title: 'Deploys', icon: 'rocket', desc: 'Ready to launch: credentials checked, waiting to go live.', empty: 'No deploys pending.', href: '/ops/automations?status=ready_to_launch', load: byStatus('ready_to_launch') },
  blocked: { title: 'Blocked', icon: 'ban', desc: 'Stopped automations, with the reason and what clears them.', empty: 'Nothing is blocked.', href: '/ops/automations?status=blocked', load: byStatus('blocked') },
  overdue: { title: 'Overdue tasks', icon: 'clock', desc: 'Ops tasks past their due date.', empty: 'No overdue tasks.', href: '/ops/automations', load: noSourceYet },
  threads: { title: 'Unread threads', icon: 'message', desc: 'Client messages nobody on ops has read yet.', empty: 'All caught up.', href: '/ops/automations', load: noSourceYet },
  plugins: { title: 'Plugin failures', icon: 'plugins', desc: 'Pricing or validation plugin runs that failed.', empty: 'No plugin failures.', href: '/ops/plugins', load: noSourceYet },
};

/** tenant id → workspace name, for the queue cards (empty when the list can't be read). */
let workspaceNames = {};

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

function renderQueue(card, items) {
  const body = $('[data-queue-body]', card);
  const n = items ? items.length : 0;
  card.removeAttribute('aria-busy');
  setCount(card, String(n), `${n} ${n === 1 ? 'item' : 'items'}`).classList.toggle('is-zero', n === 0);
  if (!n) {
    mount(body, el('p', { class: 'queue-empty' }, icon('checkCircle'), QUEUES[card.dataset.queue]?.empty || 'Nothing here.'));
    return;
  }
  mount(body, el('ul', { class: 'queue-list' },
    items.slice(0, 4).map((a) => el('li', {},
      el('span', {}, a.name || a.title, workspaceNames[a.tenant_id] ? el('span', { class: 'cell-sub' }, ` · ${workspaceNames[a.tenant_id]}`) : null),
      a.status ? statusBadge(a.status) : null,
    )),
  ));
}

/** The queue cards, drawn as skeletons as soon as the page boots. */
function drawQueues() {
  const grid = $('[data-queues]');
  if (grid) mount(grid, Object.entries(QUEUES).map(([key, q]) => queueCard(key, q)));
}

async function loadQueues() {
  const cards = $$('[data-queue]');
  try {
    const data = await get('/api/ops/tenants', { query: { limit: 200 } });
    workspaceNames = Object.fromEntries((data.items || []).map((t) => [t.id, t.name]));
  } catch { workspaceNames = {}; }
  let authError = null;
  await Promise.all(cards.map(async (card) => {
    try {
      renderQueue(card, await QUEUES[card.dataset.queue].load());
    } catch (err) {
      if (isUnauthenticated(err) || err?.status === 403) authError = err;
      renderQueue(card, null);
    }
  }));
  return authError;
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
    }
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
