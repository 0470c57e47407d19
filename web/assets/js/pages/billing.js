// Billing (/app/billing): the workspace's subscriptions (one per signed automation: its monthly
// fee, committed runs and overage price, and a decrease waiting for next month), a committed-
// volume change that shows the re-priced preview (POST /api/billing/committed-volume?dry_run=true)
// before it is confirmed, and the invoices with their PDFs.
import { get, post } from '../api.js';
import {
  el, mount, emptyState, skeletonCard, setBusy, announce, formatMoney, formatDate, list, icon,
  applyProblemToForm, clearFieldErrors, setFieldError,
} from '../ui.js';

const count = (n) => new Intl.NumberFormat().format(Number(n) || 0);
const INVOICE_STATUS = { draft: 'Draft', finalized: 'Due', paid: 'Paid', failed: 'Payment failed' };
const INVOICE_TONE = { draft: 'tone-neutral', finalized: 'tone-info', paid: 'tone-success', failed: 'tone-danger' };
const INVOICE_KIND = { setup_fee: 'Setup fee', proration: 'Committed volume change', period: 'Monthly' };
const MAX_RUNS = 100000000;

function period(p) {
  const [y, m] = String(p).split('-').map(Number);
  if (!y || !m) return p;
  return new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString(undefined, { year: 'numeric', month: 'long', timeZone: 'UTC' });
}

function subscriptionCard(s, onChange) {
  const money = (c) => formatMoney(c, s.currency);
  const id = `runs-${s.id}`;
  const input = el('input', { id, class: 'billing-runs', name: 'monthly_runs', type: 'number', inputmode: 'numeric', min: '0', max: String(MAX_RUNS), step: '1', value: String(s.pending ? s.pending.committed_monthly_runs : s.committed_monthly_runs), 'aria-describedby': `${id}-help` });
  const preview = el('div', { class: 'stack stack-sm', 'aria-live': 'polite', dataset: { volumePreview: '' } });
  const form = el('form', { class: 'stack stack-sm', novalidate: true, dataset: { volumeForm: s.automation_id } },
    el('div', { class: 'field' },
      el('label', { for: id }, 'New committed runs per month'),
      input,
      el('p', { class: 'help', id: `${id}-help` }, 'More runs apply today, with a charge for the rest of this month. Fewer runs apply from next month.')),
    el('div', { class: 'cluster' }, el('button', { type: 'submit', class: 'btn btn-secondary', dataset: { previewVolume: '' } }, 'See the new price')),
    preview);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    const runs = Number(input.value);
    if (!Number.isInteger(runs) || runs < 0 || runs > MAX_RUNS) {
      setFieldError(input, `Enter a whole number from 0 to ${count(MAX_RUNS)}.`);
      return;
    }
    const button = form.querySelector('[data-preview-volume]');
    setBusy(button, true);
    try {
      const p = await post('/api/billing/committed-volume', { automation_id: s.automation_id, monthly_runs: runs }, { query: { dry_run: 'true' } });
      mount(preview, previewBlock(s, p, async (confirmButton) => {
        setBusy(confirmButton, true);
        try {
          const done = await post('/api/billing/committed-volume', { automation_id: s.automation_id, monthly_runs: runs });
          announce(done.applies === 'now'
            ? `Your commitment is now ${count(runs)} runs a month.`
            : `Your commitment changes to ${count(runs)} runs a month on ${formatDate(done.effective_at)}.`);
          await onChange(done);
        } catch (err) {
          setBusy(confirmButton, false);
          applyProblemToForm(form, err);
        }
      }));
      preview.querySelector('h4')?.focus();
    } catch (err) {
      applyProblemToForm(form, err);
    } finally { setBusy(button, false); }
  });

  return el('article', { class: 'card card-body stack', dataset: { subscription: s.automation_id } },
    el('header', { class: 'spread' },
      el('h3', {}, el('a', { href: `/app/automations/${s.automation_id}` }, s.automation_name)),
      el('span', { class: 'badge no-dot tone-success' }, 'Active')),
    el('dl', { class: 'dl' },
      el('dt', {}, 'Monthly fee'), el('dd', { dataset: { monthlyFee: '' } }, money(s.monthly_fee_cents)),
      el('dt', {}, 'Committed runs / month'), el('dd', { dataset: { committedRuns: '' } }, count(s.committed_monthly_runs)),
      el('dt', {}, 'Each extra run'), el('dd', {}, money(s.overage_unit_cents))),
    s.pending ? el('p', { class: 'help', dataset: { pendingChange: '' } },
      `From ${period(s.pending.from)}: ${count(s.pending.committed_monthly_runs)} runs for ${money(s.pending.monthly_fee_cents)} a month.`) : null,
    form);
}

function previewBlock(s, p, confirm) {
  const money = (c) => formatMoney(c, p.currency);
  const now = p.applies === 'now';
  const confirmButton = el('button', { type: 'button', class: 'btn btn-primary', dataset: { confirmVolume: '' } }, 'Confirm the change');
  confirmButton.addEventListener('click', () => confirm(confirmButton));
  return el('section', { class: 'billing-preview stack stack-sm', 'aria-labelledby': `preview-${s.id}` },
    el('h4', { id: `preview-${s.id}`, tabindex: '-1' }, 'The new price'),
    el('p', {}, `${count(p.monthly_runs)} runs a month for ${money(p.monthly_fee_cents)} (now ${count(p.current_monthly_runs)} runs for ${money(p.current_monthly_fee_cents)}). Each extra run costs ${money(p.overage_unit_cents)}.`),
    el('p', { dataset: { prorated: String(p.prorated_charge_cents) } }, now
      ? `It applies today. You are charged ${money(p.prorated_charge_cents)} now for the rest of this month (${p.remaining_days} of ${p.period_days} days).`
      : `It applies from ${formatDate(p.effective_at)}. Nothing is charged now.`),
    el('div', { class: 'cluster' }, confirmButton));
}

function invoicesTable(items) {
  return el('div', { class: 'table-wrap' },
    el('table', { class: 'table table-responsive', dataset: { invoices: '' } },
      el('caption', { class: 'sr-only' }, 'Invoices'),
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, 'Invoice'),
        el('th', { scope: 'col' }, 'For'),
        el('th', { scope: 'col' }, 'Status'),
        el('th', { scope: 'col', class: 'num' }, 'Total'),
        el('th', { scope: 'col' }, 'Document'))),
      el('tbody', {}, items.map((i) => el('tr', { dataset: { invoice: i.id } },
        el('td', { 'data-label': 'Invoice' }, i.number, el('span', { class: 'help' }, ` · ${formatDate(i.created_at)}`)),
        el('td', { 'data-label': 'For' }, `${INVOICE_KIND[i.kind] || 'Invoice'}, ${period(i.period)}`),
        el('td', { 'data-label': 'Status' }, el('span', { class: `badge no-dot ${INVOICE_TONE[i.status] || 'tone-neutral'}` }, INVOICE_STATUS[i.status] || 'Invoice')),
        el('td', { 'data-label': 'Total', class: 'num' }, formatMoney(i.total_cents, i.currency)),
        el('td', { 'data-label': 'Document' },
          el('a', { class: 'btn btn-secondary btn-sm', href: `/api/billing/invoices/${i.id}/pdf`, download: '', dataset: { invoicePdf: '' } }, icon('quote'), 'PDF', el('span', { class: 'sr-only' }, ` of invoice ${i.number}`))))))));
}

export async function render(root, ctx) {
  ctx.setTitle('Billing');
  const subs = el('section', { class: 'stack', 'aria-labelledby': 'subs-title' });
  const invoices = el('section', { class: 'stack', 'aria-labelledby': 'invoices-title' });
  mount(root,
    el('div', { class: 'page-header' }, el('div', {},
      el('h1', {}, 'Billing'),
      el('p', {}, 'Your subscriptions, committed volumes and invoices.'))),
    subs, invoices);

  async function load() {
    mount(subs, el('h2', { id: 'subs-title' }, 'Subscriptions'), skeletonCard({ rows: 3, label: 'Loading subscriptions…' }));
    mount(invoices, el('h2', { id: 'invoices-title' }, 'Invoices'), skeletonCard({ rows: 3, label: 'Loading invoices…' }));
    try {
      const [s, i] = await Promise.all([
        get('/api/billing/subscriptions').then(list),
        get('/api/billing/invoices').then(list),
      ]);
      const active = s.filter((x) => x.status === 'active');
      mount(subs, el('h2', { id: 'subs-title' }, 'Subscriptions'),
        active.length
          ? el('div', { class: 'stack' }, active.map((x) => subscriptionCard(x, load)))
          : emptyState({ icon: 'billing', title: 'No subscriptions yet', body: 'A subscription starts when you sign a quote.', action: { label: 'View automations', href: '/app/automations' }, headingLevel: 3, compact: true }));
      mount(invoices, el('h2', { id: 'invoices-title' }, 'Invoices'),
        i.length ? invoicesTable(i) : emptyState({ icon: 'billing', title: 'No invoices yet', body: 'Invoices appear here when a setup fee or a month is billed.', headingLevel: 3, compact: true }));
    } catch (err) {
      mount(subs, emptyState({ icon: 'alert', title: "We couldn't load billing", body: err?.problem?.detail, action: { label: 'Try again', onClick: load } }));
      mount(invoices);
    }
  }
  await load();
}
