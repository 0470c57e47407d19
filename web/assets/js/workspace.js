// The workspace app shell at {slug}.{base}/app.
//
// Boot order: wire the frame → GET /api/me → fill workspace + user → render the page module.
//
// Plugging in a page: write `js/pages/<name>.js` exporting
//     export async function render(root, ctx) { … }      // ctx: see makeContext()
// and add a line to PAGES below. The page name is `<body data-page="…">` if set, else the first
// path segment after /app (`/app/automations/123` → "automations"; `/app` → "home").
// Pages without a module get a helpful empty state, so no nav item is ever a dead end.
import { api, get, isUnauthenticated, maybeSignedIn } from './api.js';
import {
  $, $$, el, mount, bindText, emptyState, problemBanner, skeletonCard, initials, setTitle, announce, icon,
} from './ui.js';
import { initShell, setUnread, markCurrentNav } from './shell.js';
import { apexHost, apexUrl, subdomain } from './hosts.js';
import { connectLive, onLive } from './live.js';

/** name → () => import('./pages/<name>.js'). Add pages here. */
export const PAGES = {
  automations: () => import('./pages/automations.js'),
  tasks: () => import('./pages/tasks.js'),
  'audit-log': () => import('./pages/audit-log.js'),
  team: () => import('./pages/team.js'),
  'api-keys': () => import('./pages/api-keys.js'),
  credentials: () => import('./pages/credentials.js'),
  home: () => import('./pages/home.js'),
  search: () => import('./pages/search.js'),
  settings: () => import('./pages/settings.js'),
  notifications: () => import('./pages/notifications.js'),
  billing: () => import('./pages/billing.js'),
  alerts: () => import('./pages/alerts.js'),
};

/** What each section is, for its title and its empty state until a real page module exists. */
const SECTIONS = {
  home: { title: 'Overview', icon: 'automations', empty: 'No automations yet', body: 'Automations are the work WRK Copilot builds and runs for you. Describe what you need and we will price it, build it and keep it running.', action: { label: 'Request an automation', href: '/app/automations/new', icon: 'plus' }, secondary: { label: 'Invite your team', href: '/app/team' } },
  automations: { title: 'Automations', icon: 'automations', empty: 'No automations yet', body: 'Each automation follows one path: intake, quote, build, QA, live. Start by describing the work you want automated.', action: { label: 'Request an automation', href: '/app/automations/new', icon: 'plus' } },
  tasks: { title: 'Tasks', icon: 'tasks', empty: 'No open tasks', body: 'Tasks are things we need from you — a credential, an answer, a signature. They show up here when an automation needs them.', action: { label: 'View automations', href: '/app/automations' } },
  billing: { title: 'Billing', icon: 'billing', empty: 'Nothing to bill yet', body: 'Invoices, your payment method and usage against committed volume appear here once a quote is signed.', action: { label: 'View automations', href: '/app/automations' } },
  credentials: { title: 'Credentials', icon: 'credentials', empty: 'No credentials stored', body: 'Credentials let your automations reach the systems they work with. They are encrypted and never shown again after you save them.', action: { label: 'View automations', href: '/app/automations' } },
  team: { title: 'Team', icon: 'team', empty: 'Just you so far', body: 'Invite colleagues to request automations, approve quotes and manage billing. Roles decide what each person can do.', action: { label: 'Invite a teammate', href: '/app/team/invite', icon: 'plus' } },
  'api-keys': { title: 'API keys', icon: 'key', empty: 'No API keys', body: 'API keys let your own systems call the WRK Copilot API on behalf of this workspace. Each key is shown once, when you create it.', action: { label: 'Create an API key', href: '/app/api-keys/new', icon: 'plus' } },
  'audit-log': { title: 'Audit log', icon: 'audit', empty: 'No activity recorded yet', body: 'Every change in this workspace — who did what, when, from where — is recorded here.', action: null },
  settings: { title: 'Settings', icon: 'settings', empty: 'Workspace settings', body: 'Name, address and defaults for this workspace.', action: null },
  notifications: { title: 'Notifications', icon: 'bell', empty: "You're all caught up", body: 'Updates about your automations, quotes and tasks appear here.', action: { label: 'View automations', href: '/app/automations' } },
};

export function pageName(path = location.pathname) {
  if (document.body.dataset.page) return document.body.dataset.page;
  const seg = path.replace(/^\/app\/?/, '').split('/')[0];
  return seg || 'home';
}

function makeContext(me, root) {
  return {
    me,                         // {user:{id,email,name}, tenant:{id,name,subdomain}, role}
    root,                       // the page root element; render into it
    api,                        // api(path, {method, body, query})
    path: location.pathname,
    params: new URLSearchParams(location.search),
    segments: location.pathname.replace(/^\/app\/?/, '').split('/').filter(Boolean),
    apexUrl,                    // apexUrl('/login') → //{base}/login
    setTitle: (...parts) => setTitle(...parts, me?.tenant?.name),
    refreshUnread,
  };
}

function fillIdentity(me) {
  const ws = me.tenant || {};
  const user = me.user || {};
  bindText(document, {
    workspace_name: ws.name || ws.subdomain || subdomain() || 'Workspace',
    workspace_host: location.host,
    user_name: user.name || user.email || 'You',
    user_email: user.email || '',
  });
  for (const n of $$('[data-workspace-initials]')) n.textContent = initials(ws.name || ws.subdomain);
  for (const n of $$('[data-user-initials]')) n.textContent = initials(user.name || user.email);
}

function fillAnonymous() {
  const slug = subdomain() || 'workspace';
  bindText(document, { workspace_name: slug, workspace_host: location.host, user_name: 'Not signed in', user_email: '' });
  for (const n of $$('[data-workspace-initials]')) n.textContent = initials(slug);
  for (const n of $$('[data-user-initials]')) n.textContent = '?';
}

/** `?next=` that brings an apex login back into this workspace. */
function backHere() {
  const slug = subdomain();
  return slug ? `?next=${encodeURIComponent(`/workspaces?switch=${slug}`)}` : '';
}

function renderSignIn(root) {
  fillAnonymous();
  setTitle('Sign in');
  mount(root, emptyState({
    icon: 'lock',
    title: 'Sign in to continue',
    body: `You need to be signed in to open ${subdomain() ? `the ${subdomain()} workspace` : 'this workspace'}. Log in on ${apexHost()} and come right back.`,
    // After logging in on the apex, the picker opens this workspace (or says there is no access).
    action: { label: 'Log in', href: apexUrl(`/login${backHere()}`) },
    secondary: { label: 'Create an account', href: apexUrl(`/signup${backHere()}`) },
    headingLevel: 1,
  }));
  announce('Sign in to continue');
}

function renderForbidden(root, err) {
  fillAnonymous();
  setTitle('No access');
  mount(root, emptyState({
    icon: 'lock',
    title: "You don't have access to this workspace",
    body: err?.problem?.detail || 'Ask an owner of this workspace to invite you, or open one of your own workspaces.',
    action: { label: 'Your workspaces', href: apexUrl('/workspaces') },
    headingLevel: 1,
  }));
}

function renderLoadError(root, err) {
  problemBanner(err, { title: "We couldn't load this workspace" });
  mount(root, emptyState({
    icon: 'alert',
    title: 'Something went wrong',
    body: 'Your data is safe. Try again in a moment.',
    action: { label: 'Try again', onClick: () => location.reload() },
    headingLevel: 1,
  }));
}

/** Default page: title + what this section is + its first action. */
function renderSection(root, name, ctx) {
  const s = SECTIONS[name] || { title: 'Page not found', icon: 'compass', empty: "This page doesn't exist", body: 'The link may be out of date.', action: { label: 'Go to automations', href: '/app/automations' } };
  ctx.setTitle(s.title);
  const greeting = name === 'home' && ctx.me?.user?.name ? `Welcome, ${ctx.me.user.name.split(' ')[0]}` : s.title;
  mount(root,
    el('div', { class: 'page-header' },
      el('div', {},
        el('h1', {}, greeting),
        el('p', {}, name === 'home' ? `Everything happening in ${ctx.me?.tenant?.name || 'this workspace'}.` : s.body),
      ),
      s.action && name !== 'home' ? el('div', { class: 'cluster' }, el('a', { class: 'btn btn-primary', href: s.action.href }, s.action.label)) : null,
    ),
    emptyState({ icon: s.icon, title: s.empty, body: name === 'home' ? s.body : null, action: name === 'home' ? s.action : null, secondary: name === 'home' ? s.secondary : null }),
  );
}

/** The member's workspaces in the switcher and the user menu; each opens through the apex switch. */
async function fillWorkspaces(me) {
  let items = [];
  try {
    items = (await get('/api/me/workspaces')).items || [];
  } catch {
    return; /* the menus keep their "All workspaces" link */
  }
  const current = me?.tenant?.subdomain || subdomain();
  for (const menu of $$('#workspace-menu, #user-menu')) {
    const header = $('.menu-header', menu);
    if (!header || !items.length) continue;
    const group = el('div', { class: 'menu-group', role: 'group', 'aria-label': 'Your workspaces', dataset: { workspaceList: '' } },
      items.map((w) => {
        const here = w.subdomain === current;
        return el('a', {
          class: ['menu-item', 'menu-ws', here && 'is-current'],
          role: 'menuitem',
          href: here ? '/app' : apexUrl(`/workspaces?switch=${encodeURIComponent(w.subdomain)}`),
          'aria-current': here ? 'true' : null,
          dataset: { subdomain: w.subdomain },
        },
        el('span', { class: 'workspace-avatar', 'aria-hidden': 'true' }, initials(w.name || w.subdomain)),
        el('span', { class: 'ws-text' }, el('span', { class: 'ws-name' }, w.name), el('span', { class: 'ws-host' }, `${w.role}`)),
        here ? icon('check') : null);
      }),
      el('div', { class: 'menu-sep', role: 'separator' }),
    );
    $('[data-workspace-list]', menu)?.remove();
    header.after(group);
  }
}

/** The unread count on the bell, from GET /api/notifications. */
export async function refreshUnread() {
  try {
    const page = await get('/api/notifications', { query: { limit: 1 } });
    setUnread(page.unread);
  } catch { /* the bell keeps its last count */ }
}

function wireLogout() {
  for (const b of $$('[data-logout]')) {
    b.addEventListener('click', async () => {
      try { await api('/api/auth/logout', { method: 'POST', body: {} }); } catch { /* leaving anyway */ }
      // The apex logs its own session out too (its cookie is host-only, so it must do it itself).
      location.assign(apexUrl('/login?logout=1'));
    });
  }
  for (const a of $$('[data-apex-href]')) a.setAttribute('href', apexUrl(a.dataset.apexHref));
}

export async function boot() {
  initShell();
  wireLogout();
  const root = $('[data-page-root]');
  const name = pageName();
  markCurrentNav();

  if (!maybeSignedIn()) return renderSignIn(root);
  let me;
  try {
    me = await get('/api/me');
  } catch (err) {
    if (isUnauthenticated(err)) return renderSignIn(root);
    if (err?.status === 403) return renderForbidden(root, err);
    return renderLoadError(root, err);
  }
  fillIdentity(me);
  refreshUnread();
  // Live updates: the bell follows new notifications; pages subscribe to what they show.
  connectLive('/api/events');
  onLive('notification.created', () => refreshUnread());
  if (me.user) fillWorkspaces(me);

  const ctx = makeContext(me, root);
  const loader = PAGES[name];
  if (!loader) return renderSection(root, name, ctx);
  try {
    const mod = await loader();
    mount(root, skeletonCard());
    await mod.render(root, ctx);
  } catch (err) {
    renderLoadError(root, err);
  }
}

boot();
