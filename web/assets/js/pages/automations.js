// Automations (/app/automations): the list with status filter, debounced name search, "show
// archived", cursor pagination. `/app/automations/new` and `/app/automations/{id}` are routed from
// here to their own modules (the workspace shell picks a page by the first path segment).
import { get } from '../api.js';
import {
  el, mount, statusBadge, emptyState, skeletonCard, problemBanner, relativeTime, formatDate,
  STATUSES, statusLabel, icon, list,
} from '../ui.js';

export async function render(root, ctx) {
  const sub = ctx.segments[1];
  if (sub === 'new') return (await import('./automation-new.js')).render(root, ctx);
  if (sub) return (await import('./automation.js')).render(root, ctx);
  return renderList(root, ctx);
}

async function renderList(root, ctx) {
  ctx.setTitle('Automations');
  const state = {
    status: ctx.params.get('status') || '',
    q: ctx.params.get('q') || '',
    archived: ctx.params.get('archived') === '1',
  };

  const statusSelect = el('select', { id: 'filter-status', name: 'status' },
    el('option', { value: '' }, 'All statuses'),
    STATUSES.map((s) => el('option', { value: s, selected: s === state.status }, statusLabel(s))));
  const search = el('input', {
    id: 'filter-q', name: 'q', type: 'search', value: state.q, placeholder: 'Search by name', autocomplete: 'off',
  });
  const archived = el('input', { id: 'filter-archived', type: 'checkbox', checked: state.archived });
  const results = el('div', { class: 'stack', 'aria-live': 'polite', dataset: { automationList: '' } });
  const summary = el('p', { class: 'sr-only', role: 'status' });

  mount(root,
    el('div', { class: 'page-header' },
      el('div', {},
        el('h1', {}, 'Automations'),
        el('p', {}, 'Each automation follows one path: intake, quote, build, QA, live.'),
      ),
      el('div', { class: 'cluster' },
        el('a', { class: 'btn btn-primary', href: '/app/automations/new', dataset: { newAutomation: '' } }, icon('plus'), 'New automation')),
    ),
    el('form', { class: 'filter-bar', role: 'search', 'aria-label': 'Filter automations', onsubmit: (e) => e.preventDefault() },
      el('div', { class: 'field grow' }, el('label', { for: 'filter-q' }, 'Search'), search),
      el('div', { class: 'field' }, el('label', { for: 'filter-status' }, 'Status'), statusSelect),
      el('label', { class: 'check filter-check', for: 'filter-archived' }, archived, 'Show archived'),
    ),
    summary,
    results,
  );

  let seq = 0;
  async function load({ append = false, cursor = null } = {}) {
    const mine = ++seq;
    if (!append) mount(results, skeletonCard({ rows: 4, label: 'Loading automations…' }));
    syncUrl();
    let data;
    try {
      data = await get('/api/automations', {
        query: {
          status: state.status, q: state.q.trim(), include_archived: state.archived || state.status === 'archived' ? 'true' : '',
          limit: 25, cursor,
        },
      });
    } catch (err) {
      if (mine !== seq) return;
      mount(results, emptyState({ icon: 'alert', title: "We couldn't load your automations", body: err?.problem?.detail || 'Try again in a moment.', action: { label: 'Try again', onClick: () => load() } }));
      return;
    }
    if (mine !== seq) return;
    const items = list(data);
    if (!append) {
      if (!items.length) {
        const filtered = state.status || state.q.trim();
        mount(results, filtered
          ? emptyState({ icon: 'search', title: 'No automations match', body: 'Try another name or status.', action: { label: 'Clear filters', onClick: clearFilters } })
          : emptyState({ icon: 'automations', title: 'No automations yet', body: 'Describe the work you want automated: we price it, build it, and keep it running.', action: { label: 'New automation', href: '/app/automations/new', icon: 'plus' } }));
        summary.textContent = 'No automations';
        return;
      }
      mount(results, table(items));
    } else {
      results.querySelector('tbody').append(...items.map(row));
    }
    results.querySelector('[data-more]')?.remove();
    if (data?.next_cursor) {
      const more = el('button', { type: 'button', class: 'btn btn-secondary', dataset: { more: '' } }, 'Load more');
      more.addEventListener('click', () => { more.disabled = true; load({ append: true, cursor: data.next_cursor }); });
      results.append(el('div', { class: 'cluster list-more' }, more));
    }
    const n = results.querySelectorAll('tbody tr').length;
    summary.textContent = `${n} automation${n === 1 ? '' : 's'} shown`;
  }

  function syncUrl() {
    const p = new URLSearchParams();
    if (state.status) p.set('status', state.status);
    if (state.q.trim()) p.set('q', state.q.trim());
    if (state.archived) p.set('archived', '1');
    const s = p.toString();
    history.replaceState(null, '', `/app/automations${s ? `?${s}` : ''}`);
  }
  function clearFilters() {
    state.status = ''; state.q = ''; state.archived = false;
    statusSelect.value = ''; search.value = ''; archived.checked = false;
    load();
    search.focus();
  }

  let timer = null;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.q = search.value; load(); }, 250);
  });
  statusSelect.addEventListener('change', () => { state.status = statusSelect.value; load(); });
  archived.addEventListener('change', () => { state.archived = archived.checked; load(); });
  await load();
}

function table(items) {
  return el('div', { class: 'table-wrap' },
    el('table', { class: 'table table-responsive' },
      el('caption', { class: 'sr-only' }, 'Automations'),
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, 'Name'),
        el('th', { scope: 'col' }, 'Status'),
        el('th', { scope: 'col', class: 'num' }, 'Latest version'),
        el('th', { scope: 'col' }, 'Updated'))),
      el('tbody', {}, items.map(row)),
    ));
}

function row(a) {
  return el('tr', { dataset: { automationId: a.id } },
    el('td', { 'data-label': 'Name' },
      el('a', { href: `/app/automations/${a.id}` }, a.name),
      a.description ? el('div', { class: 'cell-sub' }, a.description) : null),
    el('td', { 'data-label': 'Status' }, statusBadge(a.status)),
    el('td', { 'data-label': 'Latest version', class: 'num' }, `v${a.latest_version}`, a.live_version && a.live_version !== a.latest_version ? el('span', { class: 'cell-sub' }, ` · v${a.live_version} live`) : null),
    el('td', { 'data-label': 'Updated' }, el('time', { datetime: a.updated_at, title: formatDate(a.updated_at, { time: true }) }, relativeTime(a.updated_at))),
  );
}

