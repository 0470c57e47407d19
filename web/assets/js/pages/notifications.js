// Notifications (/app/notifications): the signed-in person's notifications, newest first, each a
// link to what it is about; opening one marks it read, and "Mark all read" clears the badge.
// Below, the email preference per kind (messages come as a batched digest while you are away).
import { get, post, put } from '../api.js';
import { el, mount, emptyState, skeletonCard, problemBanner, relativeTime, formatDate, list, setBusy, showBanner } from '../ui.js';
import { onLive } from '../live.js';

const KIND_LABELS = {
  message: 'Messages from the WRK team',
  alert: 'Usage and failure alerts',
  credential_failed: 'Failing credentials',
  version_blocked: 'Blocked automations',
  quote: 'Quotes',
  billing: 'Invoices and payments',
};

export async function render(root, ctx) {
  ctx.setTitle('Notifications');
  const banners = el('div', { class: 'banners', 'aria-live': 'polite' });
  const listRegion = el('div', { 'aria-live': 'polite' }, skeletonCard({ rows: 3 }));
  const readAll = el('button', { type: 'button', class: 'btn btn-secondary btn-sm', dataset: { readAll: '' } }, 'Mark all read');
  const prefs = el('div', {}, skeletonCard({ rows: 3 }));
  mount(root,
    el('div', { class: 'page-header' },
      el('div', {}, el('h1', {}, 'Notifications'), el('p', {}, 'Updates about your automations, quotes and messages.')),
      el('div', { class: 'cluster' }, readAll)),
    banners,
    listRegion,
    el('section', { class: 'card', 'aria-labelledby': 'prefs-title' },
      el('div', { class: 'card-header' }, el('h2', { class: 'card-title', id: 'prefs-title' }, 'Email me about')),
      el('div', { class: 'card-body' }, prefs)));

  async function load() {
    let page;
    try {
      page = await get('/api/notifications', { query: { limit: 100 } });
    } catch (err) {
      mount(listRegion, emptyState({ icon: 'alert', title: "We couldn't load your notifications", body: err?.problem?.detail, action: { label: 'Try again', onClick: load }, compact: true }));
      return;
    }
    const items = list(page);
    readAll.disabled = !page.unread;
    ctx.refreshUnread();
    if (!items.length) {
      mount(listRegion, emptyState({ icon: 'bell', title: "You're all caught up", body: 'Updates about your automations, quotes and tasks appear here.', action: { label: 'View automations', href: '/app/automations' }, compact: true }));
      return;
    }
    mount(listRegion, el('ul', { class: 'card notification-list', dataset: { notifications: '' } }, items.map((n) => {
      const open = async (e) => {
        if (n.read) return;
        e.preventDefault();
        try { await post(`/api/notifications/${encodeURIComponent(n.id)}/read`, {}); } catch { /* open it anyway */ }
        location.assign(n.link || '/app/notifications');
      };
      const link = el('a', { class: 'notification-link', href: n.link || '/app/notifications' },
        el('strong', {}, n.title),
        n.body ? el('span', { class: 'cell-sub' }, n.body) : null);
      link.addEventListener('click', open);
      return el('li', { class: ['notification', !n.read && 'is-unread'], dataset: { notificationId: n.id } },
        n.read ? null : el('span', { class: 'sr-only' }, 'Unread: '),
        link,
        el('time', { class: 'cell-sub', datetime: n.created_at, title: formatDate(n.created_at, { time: true }) }, relativeTime(n.created_at)));
    })));
  }

  async function loadPrefs() {
    let current;
    try { current = list(await get('/api/notifications/preferences')); } catch (err) {
      mount(prefs, el('p', { class: 'muted' }, err?.problem?.detail || "We couldn't load your email preferences."));
      return;
    }
    mount(prefs, el('fieldset', { class: 'stack stack-sm' },
      el('legend', { class: 'sr-only' }, 'Email preferences'),
      current.map((p) => {
        const box = el('input', { type: 'checkbox', id: `pref-${p.kind}`, checked: p.email, dataset: { pref: p.kind } });
        box.addEventListener('change', async () => {
          try {
            await put('/api/notifications/preferences', { items: [{ kind: p.kind, email: box.checked }] });
            showBanner({ in: banners, kind: 'success', title: 'Email preferences saved' });
          } catch (err) {
            box.checked = !box.checked;
            problemBanner(err, { title: "Your preference wasn't saved", in: banners });
          }
        });
        return el('label', { class: 'check', for: box.id }, box, KIND_LABELS[p.kind] || p.kind);
      }),
      el('p', { class: 'help' }, 'Messages arrive as one email digest while you are away, never one email each.')));
  }

  readAll.addEventListener('click', async () => {
    setBusy(readAll, true);
    try { await post('/api/notifications/read-all', {}); } catch (err) { problemBanner(err, { in: banners }); }
    setBusy(readAll, false);
    load();
  });
  onLive('notification.created', () => load());
  await Promise.all([load(), loadPrefs()]);
}
