// Ops console: /ops/search?q=… — workspaces, automations and tasks across every workspace.
import { get } from '../api.js';
import { el, mount, statusBadge, emptyState, skeletonCard, icon, announce } from '../ui.js';

export async function render(root, ctx) {
  const q = (ctx.params.get('q') || '').trim();
  ctx.setTitle(q ? `Search: ${q}` : 'Search');
  const input = el('input', { id: 'ops-search-q', name: 'q', type: 'search', value: q, autocomplete: 'off', placeholder: 'Workspaces, automations, tasks…' });
  const results = el('div', { class: 'stack', 'aria-live': 'polite', dataset: { searchResults: '' } });
  const top = document.getElementById('search');
  if (top) top.value = q;
  mount(root,
    el('div', { class: 'page-header' }, el('div', {}, el('h1', {}, 'Search'), el('p', {}, 'Workspaces, automations and tasks across every workspace.'))),
    el('form', { class: 'filter-bar', role: 'search', action: '/ops/search', method: 'get', 'aria-label': 'Search every workspace' },
      el('div', { class: 'field grow' }, el('label', { for: 'ops-search-q' }, 'Search for'), input),
      el('div', { class: 'field' }, el('button', { class: 'btn btn-primary', type: 'submit' }, icon('search'), 'Search'))),
    results);
  if (!q) {
    mount(results, emptyState({ icon: 'search', title: 'What are you looking for?', body: 'Type part of a workspace name or address, an automation name, or a task title.' }));
    input.focus();
    return;
  }
  mount(results, skeletonCard({ rows: 3, label: 'Searching…' }));
  let r;
  try {
    r = await get('/api/ops/search', { query: { q } });
  } catch (err) {
    mount(results, emptyState({ icon: 'alert', title: "We couldn't search", body: err?.problem?.detail || 'Try again in a moment.', action: { label: 'Try again', onClick: () => render(root, ctx) } }));
    return;
  }
  const total = r.workspaces.length + r.automations.length + r.tasks.length;
  announce(`${total} result${total === 1 ? '' : 's'} for ${q}`);
  if (!total) {
    mount(results, emptyState({ icon: 'search', title: `Nothing matches “${q}”`, body: 'Check the spelling, or try a shorter part of the name.', action: { label: 'Back to work queues', href: '/ops' } }));
    input.select();
    return;
  }
  mount(results,
    el('p', { class: 'muted', role: 'status' }, `${total} result${total === 1 ? '' : 's'} for “${q}”`),
    group('Workspaces', 'workspaces', r.workspaces.map((w) => hit(`/ops/workspaces?q=${encodeURIComponent(w.subdomain)}`, w.name, w.subdomain, null))),
    group('Automations', 'automations', r.automations.map((h) => hit(`/ops/automations/${h.workspace.id}/${h.automation.id}`, h.automation.name, h.workspace.name, statusBadge(h.automation.status)))),
    group('Tasks', 'tasks', r.tasks.map((h) => hit(`/ops/automations/${h.workspace.id}/${h.task.automation_id}`, h.task.title, h.workspace.name, null))),
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
  return el('li', { dataset: { searchHit: '' } }, el('a', { href }, title), badge, sub ? el('span', { class: 'cell-sub' }, sub) : null);
}
