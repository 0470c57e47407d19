// Ops console: /ops/workspaces — every workspace with its client, members, automations and open
// tasks; a filter by name or address; each row links to its automations and opens the workspace.
import { get } from '../api.js';
import { el, mount, emptyState, skeletonCard, formatDate } from '../ui.js';

export async function render(root, ctx) {
  ctx.setTitle('Workspaces');
  const q = el('input', { id: 'ws-filter', type: 'search', name: 'q', value: ctx.params.get('q') || '', autocomplete: 'off', placeholder: 'Name or address' });
  const results = el('div', { class: 'stack', 'aria-live': 'polite', dataset: { workspaceList: '' } });
  mount(root,
    el('div', { class: 'page-header' }, el('div', {}, el('h1', {}, 'Workspaces'), el('p', {}, 'Every workspace on this installation, with its client, members and automations.'))),
    el('form', { class: 'filter-bar', role: 'search', 'aria-label': 'Filter workspaces', onsubmit: (e) => e.preventDefault() },
      el('div', { class: 'field grow' }, el('label', { for: 'ws-filter' }, 'Filter'), q)),
    results);

  const base = location.host.replace(/^ops\./, '');
  let seq = 0;
  async function load({ cursor = null, append = false } = {}) {
    const mine = ++seq;
    if (!append) mount(results, skeletonCard({ rows: 3, label: 'Loading workspaces…' }));
    let data;
    try {
      data = await get('/api/ops/tenants', { query: { q: q.value.trim(), limit: 50, cursor } });
    } catch (err) {
      if (mine !== seq) return;
      mount(results, emptyState({ icon: 'alert', title: "We couldn't load the workspaces", body: err?.problem?.detail, action: { label: 'Try again', onClick: () => load() } }));
      return;
    }
    if (mine !== seq) return;
    const items = data.items || [];
    if (!append && !items.length) {
      mount(results, q.value.trim()
        ? emptyState({ icon: 'search', title: 'No workspace matches', body: 'Try another part of the name or address.', action: { label: 'Clear the filter', onClick: () => { q.value = ''; load(); q.focus(); } } })
        : emptyState({ icon: 'workspaces', title: 'No workspaces yet', body: 'A workspace appears here as soon as a client creates one.', action: { label: 'Back to work queues', href: '/ops' } }));
      return;
    }
    const rows = items.map((t) => el('tr', { dataset: { tenantId: t.id } },
      el('td', { 'data-label': 'Workspace' },
        el('a', { href: `/ops/automations?workspace=${encodeURIComponent(t.id)}` }, t.name),
        el('div', { class: 'cell-sub' }, el('a', { href: `//${t.subdomain}.${base}/app` }, `${t.subdomain}.${base}`))),
      el('td', { 'data-label': 'Client' }, t.client?.name || el('span', { class: 'muted' }, 'No client yet')),
      el('td', { 'data-label': 'Members', class: 'num' }, String(t.counts.members)),
      el('td', { 'data-label': 'Automations', class: 'num' }, String(t.counts.automations)),
      el('td', { 'data-label': 'Open tasks', class: 'num' }, String(t.counts.open_tasks)),
      el('td', { 'data-label': 'Created' }, el('time', { datetime: t.created_at }, formatDate(t.created_at)))));
    if (append) {
      results.querySelector('tbody').append(...rows);
    } else {
      mount(results, el('div', { class: 'table-wrap' }, el('table', { class: 'table table-responsive' },
        el('caption', { class: 'sr-only' }, 'Workspaces'),
        el('thead', {}, el('tr', {},
          el('th', { scope: 'col' }, 'Workspace'), el('th', { scope: 'col' }, 'Client'),
          el('th', { scope: 'col', class: 'num' }, 'Members'), el('th', { scope: 'col', class: 'num' }, 'Automations'),
          el('th', { scope: 'col', class: 'num' }, 'Open tasks'), el('th', { scope: 'col' }, 'Created'))),
        el('tbody', {}, rows))));
    }
    results.querySelector('[data-more]')?.remove();
    if (data.next_cursor) {
      const more = el('button', { type: 'button', class: 'btn btn-secondary', dataset: { more: '' } }, 'Load more');
      more.addEventListener('click', () => { more.disabled = true; load({ cursor: data.next_cursor, append: true }); });
      results.append(el('div', { class: 'cluster list-more', dataset: { more: '' } }, more));
    }
  }
  let timer = null;
  q.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => load(), 250); });
  await load();
}
