// Search (/app/search?q=…): the workspace's automations, tasks and members matching the query,
// each hit a link. The top-bar box submits here; the page's own box searches again in place.
import { get } from '../api.js';
import { el, mount, statusBadge, emptyState, skeletonCard, icon, announce } from '../ui.js';
import { taskBadge } from './tasks.js';

export async function render(root, ctx) {
  const q = (ctx.params.get('q') || '').trim();
  ctx.setTitle(q ? `Search: ${q}` : 'Search');
  const input = el('input', { id: 'search-page-q', name: 'q', type: 'search', value: q, autocomplete: 'off', placeholder: 'Automations, tasks, people…' });
  const results = el('div', { class: 'stack', 'aria-live': 'polite', dataset: { searchResults: '' } });
  const top = document.getElementById('search');
  if (top) top.value = q;
  mount(root,
    el('div', { class: 'page-header' }, el('div', {}, el('h1', {}, 'Search'), el('p', {}, 'Automations, tasks and members of this workspace.'))),
    el('form', { class: 'filter-bar', role: 'search', action: '/app/search', method: 'get', 'aria-label': 'Search this workspace' },
      el('div', { class: 'field grow' }, el('label', { for: 'search-page-q' }, 'Search for'), input),
      el('div', { class: 'field' }, el('button', { class: 'btn btn-primary', type: 'submit' }, icon('search'), 'Search'))),
    results);
  if (!q) {
    mount(results, emptyState({ icon: 'search', title: 'What are you looking for?', body: 'Type part of an automation name, a task title, or a teammate’s name or email.' }));
    input.focus();
    return;
  }
  mount(results, skeletonCard({ rows: 3, label: 'Searching…' }));
  let r;
  try {
    r = await get('/api/search', { query: { q } });
  } catch (err) {
    mount(results, emptyState({ icon: 'alert', title: "We couldn't search", body: err?.problem?.detail || 'Try again in a moment.', action: { label: 'Try again', onClick: () => render(root, ctx) } }));
    return;
  }
  const total = r.automations.length + r.tasks.length + r.members.length;
  announce(`${total} result${total === 1 ? '' : 's'} for ${q}`);
  if (!total) {
    mount(results, emptyState({ icon: 'search', title: `Nothing matches “${q}”`, body: 'Check the spelling, or try a shorter part of the name.', action: { label: 'View all automations', href: '/app/automations' } }));
    input.select();
    return;
  }
  mount(results,
    el('p', { class: 'muted', role: 'status' }, `${total} result${total === 1 ? '' : 's'} for “${q}”`),
    group('Automations', 'automations', r.automations.map((a) => hit(`/app/automations/${a.id}`, a.name, a.description, statusBadge(a.status)))),
    group('Tasks', 'tasks', r.tasks.map((t) => hit(`/app/automations/${t.automation_id}`, t.title, t.assignee === 'client' ? 'For your team' : 'For the WRK team', taskBadge(t.status)))),
    group('Members', 'members', r.members.map((m) => hit('/app/team', m.name || m.email, m.email, null))),
  );
  results.querySelector('a')?.focus();
}

function group(title, key, items) {
  if (!items.length) return null;
  const id = `search-${key}`;
  return el('section', { class: 'card', 'aria-labelledby': id, dataset: { searchGroup: key } },
    el('div', { class: 'card-header' }, el('h2', { class: 'card-title', id }, title, ' ', el('span', { class: 'count-badge is-muted' }, String(items.length)))),
    el('ul', { class: 'overview-list' }, items));
}

function hit(href, title, sub, badge) {
  return el('li', { dataset: { searchHit: '' } },
    el('a', { href }, title),
    badge,
    sub ? el('span', { class: 'cell-sub' }, sub) : null);
}
