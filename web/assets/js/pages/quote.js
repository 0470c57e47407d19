// The quote as a document: line items, one-time vs monthly totals, included runs, overage unit
// price, validity and the plugin that priced it. Printable (print stylesheet in wrk.css).
import { get } from '../api.js';
import { el, formatMoney, formatDate, icon } from '../ui.js';

const list = (data) => (Array.isArray(data) ? data : data?.items || []);
const QUOTE_TONE = { sent: 'tone-info', accepted: 'tone-info', signed: 'tone-success', rejected: 'tone-danger', expired: 'tone-neutral', superseded: 'tone-neutral', draft: 'tone-neutral' };

/** The newest quote revision for an automation version (null if none). */
export async function findQuote(automationId, version) {
  const items = list(await get('/api/quotes', { query: { limit: 200 } }))
    .filter((q) => q.automation_id === automationId && Number(q.version) === Number(version));
  if (!items.length) return null;
  items.sort((x, y) => (y.revision - x.revision) || String(y.created_at).localeCompare(String(x.created_at)));
  return items.find((q) => q.status !== 'superseded') || items[0];
}

export function quoteDocument(q, automation) {
  const money = (c) => formatMoney(c, q.currency);
  const oneTime = q.line_items.filter((l) => l.recurrence === 'one_time');
  const monthly = q.line_items.filter((l) => l.recurrence !== 'one_time');
  const expired = q.valid_until && new Date(q.valid_until) < new Date();
  const section = (title, lines) => (lines.length ? [
    el('tr', { class: 'quote-group' }, el('th', { scope: 'rowgroup', colspan: '4' }, title)),
    lines.map((l) => el('tr', { dataset: { line: l.code } },
      el('td', {}, l.description, el('div', { class: 'cell-sub' }, l.code)),
      el('td', { class: 'num' }, String(l.quantity)),
      el('td', { class: 'num' }, money(l.unit_cents)),
      el('td', { class: 'num' }, money(l.amount_cents)))),
  ] : null);

  return el('article', { class: 'card quote-doc', 'aria-labelledby': 'quote-title', dataset: { quote: q.id } },
    el('header', { class: 'quote-head' },
      el('div', {},
        el('p', { class: 'eyebrow' }, 'Quote'),
        el('h2', { id: 'quote-title' }, automation?.name || 'Automation'),
        el('p', { class: 'muted' }, `Version ${q.version} · revision ${q.revision} · issued ${formatDate(q.created_at)}`)),
      el('div', { class: 'quote-meta' },
        el('span', { class: `badge no-dot ${QUOTE_TONE[q.status] || 'tone-neutral'}`, dataset: { quoteStatus: q.status } }, q.status.charAt(0).toUpperCase() + q.status.slice(1)),
        el('p', { class: expired ? 'text-danger' : 'muted' }, `${expired ? 'Expired' : 'Valid until'} ${formatDate(q.valid_until)}`))),
    el('div', { class: 'table-wrap quote-lines' },
      el('table', { class: 'table' },
        el('caption', { class: 'sr-only' }, 'Line items'),
        el('thead', {}, el('tr', {},
          el('th', { scope: 'col' }, 'Item'), el('th', { scope: 'col', class: 'num' }, 'Qty'),
          el('th', { scope: 'col', class: 'num' }, 'Unit price'), el('th', { scope: 'col', class: 'num' }, 'Amount'))),
        el('tbody', {}, section('One-time', oneTime), section('Monthly', monthly)))),
    el('div', { class: 'quote-totals' },
      el('div', { class: 'stat' }, el('span', { class: 'stat-label' }, 'One-time (setup)'), el('span', { class: 'stat-value', dataset: { total: 'one_time' } }, money(q.setup_fee_cents))),
      el('div', { class: 'stat' }, el('span', { class: 'stat-label' }, 'Monthly'), el('span', { class: 'stat-value', dataset: { total: 'monthly' } }, money(q.monthly_fee_cents))),
      el('div', { class: 'stat' }, el('span', { class: 'stat-label' }, 'Included runs / month'), el('span', { class: 'stat-value' }, new Intl.NumberFormat().format(q.included_runs))),
      el('div', { class: 'stat' }, el('span', { class: 'stat-label' }, 'Each extra run'), el('span', { class: 'stat-value' }, money(q.overage_unit_cents)))),
    el('footer', { class: 'quote-foot spread' },
      el('p', { class: 'help' }, `Priced by ${q.plugin?.name || 'pricing'} ${q.plugin?.version || ''}`.trim(), ' · all amounts in ', q.currency),
      el('button', { type: 'button', class: 'btn btn-secondary btn-sm no-print', onclick: () => window.print() }, icon('quote'), 'Print')),
  );
}
