// The quote as a document: number, who it is billed to, line items, one-time vs monthly totals,
// included runs, overage unit price, terms and the plugin that priced it. Printable (print
// stylesheet in wrk.css). At narrow widths the line items reflow to two columns (item, amount)
// with quantity × unit price under the item, so the amount never scrolls off-screen.
import { get } from '../api.js';
import { el, formatMoney, formatDate, icon, list } from '../ui.js';
const QUOTE_TONE = { sent: 'tone-info', accepted: 'tone-info', signed: 'tone-success', rejected: 'tone-danger', expired: 'tone-neutral', superseded: 'tone-neutral', draft: 'tone-neutral' };
/** One name per quote status. */
export const QUOTE_STATUS_LABELS = {
  draft: 'Draft', sent: 'Sent', accepted: 'Accepted', signed: 'Signed', rejected: 'Rejected',
  expired: 'Expired', superseded: 'Replaced by a newer revision',
};
const count = (n) => new Intl.NumberFormat().format(Number(n) || 0);

/** The newest quote revision for an automation version, in full (null if none). */
export async function findQuote(automationId, version) {
  const items = list(await get('/api/quotes', { query: { limit: 200 } }))
    .filter((q) => q.automation_id === automationId && Number(q.version) === Number(version));
  if (!items.length) return null;
  items.sort((x, y) => (y.revision - x.revision) || String(y.created_at).localeCompare(String(x.created_at)));
  const newest = items.find((q) => q.status !== 'superseded') || items[0];
  return get(`/api/quotes/${newest.id}`);
}

export function quoteDocument(q, automation) {
  const money = (c) => formatMoney(c, q.currency);
  const oneTime = q.line_items.filter((l) => l.recurrence === 'one_time');
  const monthly = q.line_items.filter((l) => l.recurrence !== 'one_time');
  const expired = q.valid_until && new Date(q.valid_until) < new Date();
  // One <tbody> per section, so each `rowgroup` header covers only its own lines.
  const section = (title, lines) => (lines.length ? el('tbody', {},
    el('tr', { class: 'quote-group' }, el('th', { scope: 'rowgroup', colspan: '4' }, title)),
    lines.map((l) => el('tr', { dataset: { line: l.code } },
      el('td', { class: 'quote-item' }, l.description,
        el('span', { class: 'quote-calc' }, `${count(l.quantity)} × ${money(l.unit_cents)}`)),
      el('td', { class: 'num quote-qty' }, count(l.quantity)),
      el('td', { class: 'num quote-unit' }, money(l.unit_cents)),
      el('td', { class: 'num quote-amount' }, money(l.amount_cents)))),
  ) : null);
  const billed = q.billed_to;
  const status = QUOTE_STATUS_LABELS[q.status] || q.status;

  return el('article', { class: 'card quote-doc', 'aria-labelledby': 'quote-title', dataset: { quote: q.id } },
    el('header', { class: 'quote-head' },
      el('div', {},
        el('p', { class: 'eyebrow' }, 'Quote', q.number ? [' ', el('span', { class: 'quote-number', dataset: { quoteNumber: '' } }, q.number)] : null),
        el('h2', { id: 'quote-title' }, automation?.name || 'Automation'),
        el('p', { class: 'muted' }, `Version ${q.version} · revision ${q.revision} · issued ${formatDate(q.created_at)}`)),
      el('div', { class: 'quote-meta' },
        el('span', { class: `badge no-dot ${QUOTE_TONE[q.status] || 'tone-neutral'}`, dataset: { quoteStatus: q.status } }, status),
        el('p', { class: expired ? 'text-danger' : 'muted' }, `${expired ? 'Expired' : 'Valid until'} ${formatDate(q.valid_until)}`))),
    billed ? el('section', { class: 'quote-parties', 'aria-label': 'Billed to' },
      el('div', { dataset: { billedTo: '' } },
        el('p', { class: 'eyebrow' }, 'Billed to'),
        el('p', { class: 'quote-party-name' }, billed.workspace_name),
        billed.owner_name || billed.owner_email
          ? el('p', { class: 'muted' }, [billed.owner_name, billed.owner_email].filter(Boolean).join(' · '))
          : null),
      el('div', {},
        el('p', { class: 'eyebrow' }, 'From'),
        el('p', { class: 'quote-party-name' }, 'WRK Copilot'),
        el('p', { class: 'muted' }, 'Automation design, build and operation'))) : null,
    el('div', { class: 'quote-lines' },
      el('table', { class: 'table quote-table' },
        el('caption', { class: 'sr-only' }, 'Line items'),
        el('thead', {}, el('tr', {},
          el('th', { scope: 'col' }, 'Item'), el('th', { scope: 'col', class: 'num quote-qty' }, 'Qty'),
          el('th', { scope: 'col', class: 'num quote-unit' }, 'Unit price'), el('th', { scope: 'col', class: 'num quote-amount' }, 'Amount'))),
        section('One-time', oneTime), section('Monthly', monthly))),
    el('div', { class: 'quote-totals' },
      el('div', { class: 'stat' }, el('span', { class: 'stat-label' }, 'One-time (setup)'), el('span', { class: 'stat-value', dataset: { total: 'one_time' } }, money(q.setup_fee_cents))),
      el('div', { class: 'stat' }, el('span', { class: 'stat-label' }, 'Monthly'), el('span', { class: 'stat-value', dataset: { total: 'monthly' } }, money(q.monthly_fee_cents))),
      el('div', { class: 'stat' }, el('span', { class: 'stat-label' }, 'Included runs / month'), el('span', { class: 'stat-value', dataset: { total: 'included_runs' } }, count(q.included_runs))),
      el('div', { class: 'stat' }, el('span', { class: 'stat-label' }, 'Each extra run'), el('span', { class: 'stat-value' }, money(q.overage_unit_cents)))),
    el('p', { class: 'quote-terms', dataset: { quoteTerms: '' } },
      el('strong', {}, 'Terms. '),
      `This quote is valid until ${formatDate(q.valid_until)}. `,
      `The one-time setup fee of ${money(q.setup_fee_cents)} is charged when you sign. `,
      `The monthly fee of ${money(q.monthly_fee_cents)} is billed every month and covers ${count(q.included_runs)} runs; `,
      `each run beyond that is billed at ${money(q.overage_unit_cents)} on the next invoice. `,
      `All amounts are in ${q.currency}.`),
    el('footer', { class: 'quote-foot spread' },
      el('p', { class: 'help' }, `Priced by ${q.plugin?.name || 'pricing'} ${q.plugin?.version || ''}`.trim()),
      el('button', { type: 'button', class: 'btn btn-secondary btn-sm no-print', onclick: () => window.print() }, icon('quote'), 'Print')),
  );
}
