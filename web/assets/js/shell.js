// The app frame (workspace + ops): nav drawer, current nav item, user menu, notifications count.
import { $, $$, wireDismissables } from './ui.js';

/** Mark the nav link matching the current path with aria-current="page". */
export function markCurrentNav(root = document, path = location.pathname) {
  const links = $$('.nav a[href]', root);
  let best = null;
  let bestLen = -1;
  for (const a of links) {
    const href = new URL(a.getAttribute('href'), location.href).pathname.replace(/\/+$/, '') || '/';
    const p = path.replace(/\/+$/, '') || '/';
    const exact = a.dataset.exact !== undefined;
    const match = exact ? p === href : p === href || p.startsWith(href + '/');
    if (match && href.length > bestLen) { best = a; bestLen = href.length; }
  }
  for (const a of links) {
    if (a === best) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  return best;
}

function wireNavDrawer(app) {
  const toggle = $('.nav-toggle', app);
  const scrim = $('.app-scrim', app);
  const sidebar = $('.app-sidebar', app);
  if (!toggle || !sidebar) return;
  const set = (open) => {
    if (open) app.setAttribute('data-nav-open', '');
    else app.removeAttribute('data-nav-open');
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) ($('.nav a', sidebar) || sidebar).focus();
  };
  toggle.addEventListener('click', () => set(!app.hasAttribute('data-nav-open')));
  scrim?.addEventListener('click', () => set(false));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && app.hasAttribute('data-nav-open')) { set(false); toggle.focus(); }
  });
  sidebar.addEventListener('click', (e) => { if (e.target.closest('.nav a')) set(false); });
}

/** A button with aria-controls pointing at a `.menu`; click/Escape/outside click. */
export function wireMenu(button) {
  const menu = document.getElementById(button.getAttribute('aria-controls'));
  if (!menu) return;
  const set = (open) => {
    menu.hidden = !open;
    button.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) $('.menu-item', menu)?.focus();
  };
  button.addEventListener('click', (e) => { e.stopPropagation(); set(menu.hidden); });
  document.addEventListener('click', (e) => { if (!menu.hidden && !menu.contains(e.target)) set(false); });
  menu.addEventListener('keydown', (e) => {
    const items = $$('.menu-item', menu);
    const i = items.indexOf(document.activeElement);
    if (e.key === 'Escape') { set(false); button.focus(); }
    else if (e.key === 'ArrowDown') { e.preventDefault(); items[(i + 1) % items.length]?.focus(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); items[(i - 1 + items.length) % items.length]?.focus(); }
  });
}

/** Set the unread count on the bell (`[data-unread]`), including its accessible label. */
export function setUnread(count) {
  const badge = $('[data-unread]');
  const bell = $('[data-bell]');
  const n = Math.max(0, Number(count) || 0);
  if (badge) {
    badge.textContent = n ? (n > 99 ? '99+' : String(n)) : '';
    badge.dataset.count = String(n);
  }
  if (bell) bell.setAttribute('aria-label', n ? `Notifications, ${n} unread` : 'Notifications');
}

/** Wire the frame. Call once per page load. */
export function initShell() {
  const app = $('.app');
  if (app) wireNavDrawer(app);
  for (const b of $$('[aria-haspopup="menu"][aria-controls]')) wireMenu(b);
  markCurrentNav();
  wireDismissables();
  // "/" focuses search, like most products
  const search = $('.topbar-search input');
  if (search && window.matchMedia('(max-width: 600px)').matches) search.placeholder = 'Search';
  if (search) {
    document.addEventListener('keydown', (e) => {
      const t = e.target;
      const typing = t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
      if (e.key === '/' && !typing && !e.metaKey && !e.ctrlKey) { e.preventDefault(); search.focus(); }
    });
  }
}
