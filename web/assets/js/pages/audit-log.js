// Audit log (/app/audit-log): who did what, when; filters by entity type / id / action; pages by
// cursor; "Download CSV" streams the filtered log.
import { get } from '../api.js';
import { el, mount, emptyState, skeletonCard, formatDate } from '../ui.js';

const list = (data) => (Array.isArray(data) ? data : data?.items || []);
const ENTITY_TYPES = ['automation', 'version', 'quote', 'task', 'membership', 'invitation', 'api_key', 'credential', 'tenant'];

export async function render(root, ctx) {
  ctx.setTitle('Audit log');
  const type = el('select', { id: 'audit-type', name: 'entity_type' }, el('option', { value: '' }, 'All'),
    ENTITY_TYPES.map((t) => el('option', { value: t, selected: ctx.params.get('entity_type') === t }, t.replace(/_/g, ' '))));
  const entity = el('input', { id: 'audit-entity', name: 'entity_id', type: 'text', autocomplete: 'off', value: ctx.params.get('entity_id') || '', placeholder: 'Id' });
  const action = el('input', { id: 'audit-action', name: 'action', type: 'text', autocomplete: 'off', value: ctx.params.get('action') || '', placeholder: 'e.g. automation.created' });
  const csv = el('a', { class: 'btn btn-secondary', href: '/api/audit-logs?format=csv', download: 'audit-log.csv', dataset: { csv: '' } }, 'Download CSV');
  const results = el('div', { class: 'stack', 'aria-live': 'polite' });
  const form = el('form', { class: 'filter-bar', role: 'search', 'aria-label': 'Filter the audit log' },
    el('div', { class: 'field' }, el('label', { for: 'audit-type' }, 'Entity type'), type),
    el('div', { class: 'field grow' }, el('label', { for: 'audit-entity' }, 'Entity id'), entity),
    el('div', { class: 'field grow' }, el('label', { for: 'audit-action' }, 'Action'), action),
    el('div', { class: 'field field-submit' }, el('span', { class: 'label', 'aria-hidden': 'true' }, '\u00a0'), el('button', { type: 'submit', class: 'btn btn-primary' }, 'Apply')));
  mount(root,
    el('div', { class: 'page-header' },
      el('div', {}, el('h1', {}, 'Audit log'), el('p', {}, 'Every change in this workspace: who, what, when and the request it came from.')),
      el('div', { class: 'cluster' }, csv)),
    form, results);

  const query = () => ({ entity_type: type.value, entity_id: entity.value.trim(), action: action.value.trim() });
  async function load(cursor = null) {
    const q = query();
    const params = new URLSearchParams(Object.entries(q).filter(([, v]) => v));
    csv.href = `/api/audit-logs?${new URLSearchParams([...params, ['format', 'csv']])}`;
    history.replaceState(null, '', `/app/audit-log${params.toString() ? `?${params}` : ''}`);
    if (!cursor) mount(results, skeletonCard({ rows: 5, label: 'Loading the audit log…' }));
    try {
      const data = await get('/api/audit-logs', { query: { ...q, limit: 50, cursor } });
      const items = list(data);
      if (!cursor && !items.length) {
        mount(results, emptyState({ icon: 'audit', title: 'No matching activity', body: 'Changes appear here as they happen.' }));
        return;
      }
      if (!cursor) mount(results, el('div', { class: 'table-wrap' }, el('table', { class: 'table table-responsive', dataset: { audit: '' } },
        el('caption', { class: 'sr-only' }, 'Audit log'),
        el('thead', {}, el('tr', {}, ['When', 'Who', 'Action', 'Entity', 'Request'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody'))));
      results.querySelector('tbody').append(...items.map(row));
      results.querySelector('[data-more]')?.remove();
      if (data?.next_cursor) {
        const more = el('button', { type: 'button', class: 'btn btn-secondary', dataset: { more: '' } }, 'Load more');
        more.addEventListener('click', () => { more.disabled = true; load(data.next_cursor); });
        results.append(el('div', { class: 'cluster list-more' }, more));
      }
    } catch (err) {
      mount(results, emptyState({
        icon: err?.status === 403 ? 'lock' : 'alert',
        title: err?.status === 403 ? 'Only admins can read the audit log' : "We couldn't load the audit log",
        body: err?.problem?.detail,
        action: err?.status === 403 ? { label: 'Back to automations', href: '/app/automations' } : { label: 'Try again', onClick: () => load() },
      }));
    }
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  type.addEventListener('change', () => load());
  await load();
}

function row(r) {
  const changed = r.after && typeof r.after === 'object' ? Object.keys(r.after).slice(0, 4).join(', ') : '';
  return el('tr', {},
    el('td', { 'data-label': 'When' }, el('time', { datetime: r.at }, formatDate(r.at, { time: true }))),
    el('td', { 'data-label': 'Who' }, r.actor?.kind || '—', r.actor?.id ? el('div', { class: 'cell-sub mono' }, short(r.actor.id)) : null),
    el('td', { 'data-label': 'Action' }, el('code', {}, r.action), changed ? el('div', { class: 'cell-sub' }, changed) : null),
    el('td', { 'data-label': 'Entity' }, r.entity_type, r.entity_id ? el('div', { class: 'cell-sub mono', title: r.entity_id }, short(r.entity_id)) : null),
    el('td', { 'data-label': 'Request', class: 'mono cell-sub' }, r.request_id ? short(r.request_id) : '—'));
}

const short = (id) => (id && id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id);
