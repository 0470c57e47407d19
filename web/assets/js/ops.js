// The ops console shell at ops.{base}/ops. Same frame as the workspace, ops accent + "Ops" label.
//
// Home is a grid of work queues. Each queue card (`[data-queue="key"]`) starts as a skeleton and is
// filled by its loader in QUEUES: return an array of items (count + first few listed) or null when
// there is no source yet (the card shows its calm empty state).
// Other ops pages plug in like workspace pages: add `name: () => import('./pages/ops-<name>.js')`
// to PAGES; the module exports `render(root, ctx)`.
import { api, get, isUnauthenticated } from './api.js';
import { $, $$, el, mount, emptyState, bindText, problemBanner, showBanner, setTitle, statusBadge, icon } from './ui.js';
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

const byStatus = (status) => async () => {
  const data = await get('/api/ops/automations', { query: { status, limit: 50 } });
  return Array.isArray(data) ? data : data?.items || [];
};

/** key → loader. Loaders throw ApiError on failure; return null when there is no source yet. */
export const QUEUES = {
  quotes: byStatus('needs_pricing'),
  qa: byStatus('qa_testing'),
  deploys: byStatus('ready_to_launch'),
  blocked: byStatus('blocked'),
  overdue: async () => null,
  threads: async () => null,
  plugins: async () => null,
};

/** tenant id → workspace name, for the queue cards (empty when the list can't be read). */
let workspaceNames = {};

function renderQueue(card, items) {
  const count = $('[data-count]', card);
  const body = $('[data-queue-body]', card);
  const title = $('.queue-title', card).textContent.trim();
  const n = items ? items.length : 0;
  card.removeAttribute('aria-busy');
  count.textContent = String(n);
  count.classList.toggle('is-zero', n === 0);
  count.setAttribute('aria-label', `${title}: ${n}`);
  if (!n) {
    mount(body, el('p', { class: 'queue-empty' }, icon('checkCircle'), body.dataset.empty || 'Nothing here.'));
    return;
  }
  mount(body, el('ul', { class: 'queue-list' },
    items.slice(0, 4).map((a) => el('li', {},
      el('span', {}, a.name || a.title, workspaceNames[a.tenant_id] ? el('span', { class: 'cell-sub' }, ` · ${workspaceNames[a.tenant_id]}`) : null),
      a.status ? statusBadge(a.status) : null,
    )),
  ));
}

async function loadQueues() {
  const cards = $$('[data-queue]');
  try {
    const data = await get('/api/ops/tenants', { query: { limit: 200 } });
    workspaceNames = Object.fromEntries((data.items || []).map((t) => [t.id, t.name]));
  } catch { workspaceNames = {}; }
  let authError = null;
  await Promise.all(cards.map(async (card) => {
    const loader = QUEUES[card.dataset.queue];
    try {
      renderQueue(card, loader ? await loader() : null);
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

  // Not signed in (or a session that ended): the ops login, then back here.
  try {
    const me = await get('/api/ops/me');
    bindText(document, { user_name: me.email, user_email: `${me.role === 'ops_admin' ? 'Ops admin' : 'Ops'} · ${me.email}` });
    for (const n of $$('[data-user-initials]')) n.textContent = (me.email || 'OP').slice(0, 2).toUpperCase();
  } catch (err) {
    if (isUnauthenticated(err)) {
      location.replace(`/ops/login?next=${encodeURIComponent(location.pathname + location.search)}`);
      return;
    }
  }

  const root = $('[data-page-root]');
  const name = pageName();
  const ctx = { root, api, path: location.pathname, params: new URLSearchParams(location.search), setTitle: (...p) => setTitle(...p, 'Ops') };

  if (name === 'home') {
    setTitle('Work queues', 'Ops');
    const authError = await loadQueues();
    if (authError) {
      for (const card of $$('[data-queue]')) {
        const count = $('[data-count]', card);
        count.textContent = '—';
        count.classList.add('is-zero');
        count.setAttribute('aria-label', 'Not available until you sign in');
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
