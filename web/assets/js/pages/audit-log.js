// Audit log (/app/audit-log): who did what, when; filters by entity type / id / action; pages by
// cursor; "Download CSV" streams the filtered log.
import { get } from '../api.js';
import { el, mount, emptyState, skeletonCard, formatDate, list } from '../ui.js';
// The filter's choices; rows carry their own labels from the server (`entity_label`,
// `action_label`, `actor_name`), so this page never shows a code.
const ENTITY_TYPES = [
  ['automation', 'Automations'], ['version', 'Versions'], ['quote', 'Quotes'], ['task', 'Tasks'],
  ['document', 'Documents'], ['membership', 'Members'], ['invitation', 'Invitations'],
  ['api_key', 'API keys'], ['credential', 'Credentials'], ['tenant', 'Workspace'],
];

export async function render(root, ctx) {
  ctx.setTitle('Audit log');
  const type = el('select', { id: 'audit-type', name: 'entity_type' }, el('option', { value: '' }, 'Everything'),
    ENTITY_TYPES.map(([t, label]) => el('option', { value: t, selected: ctx.params.get('entity_type') === t }, label)));
  const entity = el('input', { id: 'audit-entity', name: 'entity_id', type: 'text', autocomplete: 'off', value: ctx.params.get('entity_id') || '', placeholder: 'Paste an id to follow one item' });
  // Actions seen so far (code → label), so the action filter offers words, not codes.
  const seen = new Map();
  const wanted = ctx.params.get('action') || '';
  const action = el('select', { id: 'audit-action', name: 'action' }, el('option', { value: '' }, 'Any action'));
  const addActions = (items) => {
    for (const r of items) if (r.action && !seen.has(r.action)) seen.set(r.action, r.action_label || r.action);
    if (wanted && !seen.has(wanted)) seen.set(wanted, wanted);
    const current = action.value || wanted;
    mount(action, el('option', { value: '' }, 'Any action'),
      [...seen].sort((a, b) => a[1].localeCompare(b[1])).map(([code, label]) => el('option', { value: code, selected: code === current }, label)));
  };
  const csv = el('a', { class: 'btn btn-secondary', href: '/api/audit-logs?format=csv', download: 'audit-log.csv', dataset: { csv: '' } }, 'Download CSV');
  const results = el('div', { class: 'stack', 'aria-live': 'polite' });
  // `?automation_id=` (the automation page's "Audit trail" link): that automation's whole trail,
  // its versions', quotes' and tasks' rows included, until the person clears it.
  let automation = ctx.params.get('automation_id') || '';
  const scope = el('p', { class: 'muted', dataset: { auditAutomation: automation } });
  const drawScope = async () => {
    if (!automation) { scope.hidden = true; return; }
    let name = 'one automation';
    try { name = `“${(await get(`/api/automations/${encodeURIComponent(automation)}`)).name}”`; } catch { /* the id alone filters */ }
    mount(scope, `Only the trail of ${name}: its versions, quotes and tasks included. `,
      el('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => { automation = ''; scope.hidden = true; load(); } }, 'Show everything'));
  };
  const form = el('form', { class: 'filter-bar', role: 'search', 'aria-label': 'Filter the audit log' },
    el('div', { class: 'field' }, el('label', { for: 'audit-type' }, 'Show'), type),
    el('div', { class: 'field grow' }, el('label', { for: 'audit-entity' }, 'Item id'), entity),
    el('div', { class: 'field grow' }, el('label', { for: 'audit-action' }, 'Action'), action),
    el('div', { class: 'field field-submit' }, el('span', { class: 'label', 'aria-hidden': 'true' }, '\u00a0'), el('button', { type: 'submit', class: 'btn btn-primary' }, 'Apply')));
  mount(root,
    el('div', { class: 'page-header' },
      el('div', {}, el('h1', {}, 'Audit log'), el('p', {}, 'Every change in this workspace: who, what, when and the request it came from.')),
      el('div', { class: 'cluster' }, csv)),
    form, scope, results);
  drawScope();

  const query = () => ({ automation_id: automation, entity_type: type.value, entity_id: entity.value.trim(), action: action.value || (seen.size ? '' : wanted) });
  async function load(cursor = null) {
    const q = query();
    const params = new URLSearchParams(Object.entries(q).filter(([, v]) => v));
    csv.href = `/api/audit-logs?${new URLSearchParams([...params, ['format', 'csv']])}`;
    history.replaceState(null, '', `/app/audit-log${params.toString() ? `?${params}` : ''}`);
    if (!cursor) mount(results, skeletonCard({ rows: 5, label: 'Loading the audit log…' }));
    try {
      const data = await get('/api/audit-logs', { query: { ...q, limit: 50, cursor } });
      const items = list(data);
      addActions(items);
      if (!cursor && !items.length) {
        mount(results, emptyState({ icon: 'audit', title: 'No matching activity', body: 'Changes appear here as they happen.' }));
        return;
      }
      if (!cursor) mount(results, el('div', { class: 'table-wrap' }, el('table', { class: 'table table-responsive audit-table', dataset: { audit: '' } },
        el('caption', { class: 'sr-only' }, 'Audit log'),
        el('thead', {}, el('tr', {}, ['When', 'Who', 'Action', 'Item', 'Request'].map((h) => el('th', { scope: 'col' }, h)))),
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
  action.addEventListener('change', () => load());
  await load();
}

function row(r) {
  const detail = summary(r);
  const target = entityLink(r);
  return el('tr', { dataset: { action: r.action } },
    el('td', { 'data-label': 'When' }, el('time', { datetime: r.at }, formatDate(r.at, { time: true }))),
    el('td', { 'data-label': 'Who', dataset: { actor: r.actor?.kind || '' } }, el('span', { class: 'audit-actor' }, r.actor_name || 'System'),
      r.actor_email && r.actor_email !== r.actor_name ? el('span', { class: 'cell-sub' }, r.actor_email) : null),
    el('td', { 'data-label': 'Action' }, el('span', { class: 'audit-action' }, r.action_label || r.action), detail ? el('span', { class: 'cell-sub' }, detail) : null),
    el('td', { 'data-label': 'Item' }, r.entity_label || r.entity_type,
      target ? el('span', { class: 'cell-sub' }, target) : null),
    el('td', { 'data-label': 'Request', class: 'audit-request' },
      r.request_id ? el('span', { class: 'mono', title: r.request_id }, tail(r.request_id)) : el('span', { class: 'muted' }, '—')));
}

/** What changed, in a few words: a name, an address, a role, a reason. */
function summary(r) {
  const a = r.after && typeof r.after === 'object' ? r.after : {};
  const b = r.before && typeof r.before === 'object' ? r.before : {};
  const parts = [];
  if (a.email && r.entity_type !== 'invitation') parts.push(a.email);
  if (a.role && (r.entity_type === 'invitation' || r.entity_type === 'membership')) parts.push(`as ${a.role}`);
  if (r.action === 'automation.updated' && a.name && a.name !== b.name) parts.push(`“${a.name}”`);
  if (a.reason) parts.push(`Reason: ${a.reason}`);
  return parts.join(' ');
}

/** The item an audit row is about: a link to it when it has a page, else its name or short id. */
function entityLink(r) {
  const id = r.entity_id || '';
  const name = r.entity_name || r.after?.name || r.before?.name || null;
  if (r.entity_type === 'automation' && id) return el('a', { href: `/app/automations/${id}` }, name || 'Open');
  if (r.entity_type === 'version' && id.includes(':')) {
    const [aid, n] = id.split(':');
    return el('a', { href: `/app/automations/${aid}?v=${n}` }, `Version ${n}`);
  }
  if (r.entity_type === 'tenant') return name;
  if (r.entity_type === 'invitation' && r.after?.email) return r.after.email;
  if (name) return name;
  return id ? el('span', { class: 'mono', title: id }, short(id)) : null;
}

// Request ids (UUID v7) share their leading, time-based digits: the tail tells them apart.
const tail = (id) => (id && id.length > 13 ? `…${id.slice(-8)}` : id);
const short = (id) => (id && id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id);
