// The ops quote editor (flow 14), a panel of the ops automation view: the version's current
// quote with its lines editable (description, quantity, unit price, one-time or monthly), a
// discount and a note for the client, and totals that update as you type, computed the way the
// server does (a discount comes off each unit price, rounded half up to the cent). Saving makes a
// new revision that replaces the current one and is sent to the client at once.
import { get, patch } from '../api.js';
import { el, mount, list, formatMoney, formatDate, icon, applyProblemToForm, clearBanners, clearFieldErrors, setFieldError, setBusy, showBanner, announce } from '../ui.js';
import { QUOTE_STATUS_LABELS } from './quote.js';

const EDITABLE = new Set(['sent', 'accepted', 'rejected', 'expired']);

/** The unit price after `percent` off, as the server computes it. */
export function discounted(unitCents, percent) {
  const off = Math.round((unitCents * percent) / 100);
  return unitCents - off;
}

/** One-time and monthly totals of `lines` (`{quantity, unit_cents, recurrence}`) after `percent` off. */
export function totals(lines, percent) {
  const t = { one_time: 0, monthly: 0 };
  for (const l of lines) t[l.recurrence === 'monthly' ? 'monthly' : 'one_time'] += l.quantity * discounted(l.unit_cents, percent);
  return t;
}

/** The panel for version `n` of automation `id` in workspace `tid`. */
export function quoteEditor(tid, id, n) {
  const panel = el('section', { class: 'card', 'aria-labelledby': 'ops-quote-title', dataset: { opsQuote: '' } },
    el('div', { class: 'card-header' }, el('h2', { class: 'card-title', id: 'ops-quote-title' }, 'Quote')),
    el('div', { class: 'card-body' }, el('p', { class: 'muted' }, 'Loading the quote…')));
  load(panel, tid, id, n);
  return panel;
}

async function load(panel, tid, id, n) {
  const body = panel.querySelector('.card-body');
  let quote;
  try {
    const items = list(await get(`/api/ops/tenants/${encodeURIComponent(tid)}/quotes`, { query: { limit: 200 } }))
      .filter((q) => q.automation_id === id && Number(q.version) === Number(n))
      .sort((a, b) => b.revision - a.revision);
    quote = items[0];
  } catch (err) {
    mount(body, el('p', { class: 'text-danger' }, err?.problem?.detail || "We couldn't load the quote."));
    return;
  }
  if (!quote) {
    mount(body, el('p', { class: 'muted' }, 'This version has no quote yet: it is made when the version is priced.'));
    return;
  }
  mount(body, editor(panel, tid, id, n, quote));
}

function editor(panel, tid, id, n, q) {
  const money = (c) => formatMoney(c, q.currency);
  const status = el('p', { class: 'muted' }, `${q.number || `Revision ${q.revision}`} · ${QUOTE_STATUS_LABELS[q.status] || q.status} · valid until ${formatDate(q.valid_until)}`);
  if (!EDITABLE.has(q.status)) {
    return el('div', { class: 'stack stack-sm' }, status,
      el('p', { class: 'muted' }, q.status === 'signed' ? 'Signed: the quote is the contract and cannot be revised.' : 'This revision cannot be revised.'));
  }
  // Start from the undiscounted prices when the quote carries no discount; a discounted quote's
  // lines are shown as they are and its discount starts at zero on top of them.
  const rows = el('tbody', {});
  const out = { one_time: el('span', { class: 'stat-value', dataset: { liveTotal: 'one_time' } }), monthly: el('span', { class: 'stat-value', dataset: { liveTotal: 'monthly' } }) };
  const discount = el('input', { id: 'ops-quote-discount', name: 'discount_percent', type: 'number', min: '0', max: '100', step: '1', value: '0', inputmode: 'numeric' });
  const note = el('textarea', { id: 'ops-quote-note', name: 'note', rows: '2', maxlength: '2000' });
  const readLines = () => [...rows.querySelectorAll('tr')].map((tr) => ({
    code: tr.dataset.code,
    description: tr.querySelector('[name="description"]').value.trim(),
    quantity: Number(tr.querySelector('[name="quantity"]').value),
    unit_cents: Math.round(Number(tr.querySelector('[name="unit"]').value) * 100),
    recurrence: tr.querySelector('[name="recurrence"]').value,
  }));
  const recompute = () => {
    const pct = Math.min(100, Math.max(0, Number(discount.value) || 0));
    const t = totals(readLines().filter((l) => Number.isFinite(l.quantity) && Number.isFinite(l.unit_cents)), pct);
    out.one_time.textContent = money(t.one_time);
    out.monthly.textContent = money(t.monthly);
  };
  let seq = 0;
  const addRow = (l) => {
    seq += 1;
    const k = `l${seq}`;
    const recurrence = el('select', { name: 'recurrence', id: `${k}-rec`, 'aria-label': 'Charged' },
      el('option', { value: 'one_time', selected: l.recurrence !== 'monthly' }, 'One-time'),
      el('option', { value: 'monthly', selected: l.recurrence === 'monthly' }, 'Monthly'));
    const remove = el('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'aria-label': `Remove ${l.description || 'line'}` }, icon('close'));
    const tr = el('tr', { dataset: { code: l.code || `line_${seq}` } },
      el('td', {}, el('input', { name: 'description', type: 'text', value: l.description || '', maxlength: '200', 'aria-label': 'Description', required: true })),
      el('td', { class: 'num' }, el('input', { name: 'quantity', type: 'number', min: '0', max: '10000', step: '1', value: String(l.quantity ?? 1), 'aria-label': 'Quantity', title: 'Quantity', inputmode: 'numeric' })),
      el('td', { class: 'num' }, el('input', { name: 'unit', type: 'number', min: '0', step: '0.01', value: ((l.unit_cents ?? 0) / 100).toFixed(2), 'aria-label': `Unit price (${q.currency})`, title: `Unit price (${q.currency})`, inputmode: 'decimal' })),
      el('td', {}, recurrence),
      el('td', {}, remove));
    remove.addEventListener('click', () => { tr.remove(); recompute(); });
    rows.append(tr);
  };
  q.line_items.forEach(addRow);
  const add = el('button', { type: 'button', class: 'btn btn-secondary btn-sm' }, icon('plus'), 'Add a line');
  add.addEventListener('click', () => { addRow({ description: '', quantity: 1, unit_cents: 0, recurrence: 'one_time' }); rows.lastElementChild.querySelector('input').focus(); recompute(); });
  const submit = el('button', { type: 'submit', class: 'btn btn-primary' }, 'Send the revision');
  const form = el('form', { novalidate: true, class: 'stack', dataset: { form: 'revise-quote' } },
    status,
    el('div', { class: 'table-wrap' }, el('table', { class: 'table ops-quote-lines' },
      el('caption', { class: 'sr-only' }, 'Line items'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Description'), el('th', { scope: 'col', class: 'num' }, 'Qty'),
        el('th', { scope: 'col', class: 'num' }, `Unit (${q.currency})`), el('th', { scope: 'col' }, 'Charged'), el('th', { scope: 'col' }, el('span', { class: 'sr-only' }, 'Remove')))),
      rows)),
    el('div', {}, add),
    el('div', { class: 'grid-2' },
      el('div', { class: 'field', dataset: { field: 'discount_percent' } }, el('label', { for: 'ops-quote-discount' }, 'Discount (%)'), discount,
        el('p', { class: 'help' }, q.discount_percent ? `These lines already include a ${q.discount_percent} % discount; a new one comes on top of the prices shown.` : 'Taken off every unit price and shown on each line.')),
      el('div', { class: 'field', dataset: { field: 'note' } }, el('label', { for: 'ops-quote-note' }, 'Note for the client ', el('span', { class: 'optional' }, '(optional)')), note)),
    el('div', { class: 'quote-totals', 'aria-live': 'polite' },
      el('div', { class: 'stat' }, el('span', { class: 'stat-label' }, 'One-time (setup)'), out.one_time),
      el('div', { class: 'stat' }, el('span', { class: 'stat-label' }, 'Monthly'), out.monthly)),
    el('div', { class: 'form-actions mt-0' }, submit),
    el('p', { class: 'help' }, 'Sending makes a new revision: it replaces this one, the client is emailed and told in the automation\'s messages, and they accept and sign the new one.'));
  form.addEventListener('input', recompute);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearBanners(); clearFieldErrors(form);
    const lines = readLines();
    const bad = [...rows.querySelectorAll('[name="description"]')].find((i) => !i.value.trim());
    if (bad) { setFieldError(bad, 'Describe the line.'); bad.focus(); return; }
    const body = {
      line_items: lines.map((l) => ({ code: l.code, description: l.description, quantity: l.quantity, unit_cents: l.unit_cents, recurrence: l.recurrence })),
    };
    const pct = Number(discount.value) || 0;
    if (pct) body.discount_percent = pct;
    if (note.value.trim()) body.note = note.value.trim();
    setBusy(submit, true);
    try {
      const revised = await patch(`/api/ops/tenants/${encodeURIComponent(tid)}/quotes/${q.id}`, body);
      mount(panel.querySelector('.card-body'), editor(panel, tid, id, n, revised));
      showBanner({ kind: 'success', title: `Revision ${revised.revision} sent`, detail: `Setup ${money(revised.setup_fee_cents)}, monthly ${money(revised.monthly_fee_cents)}.` });
      announce(`Revision ${revised.revision} sent to the client.`);
    } catch (err) {
      applyProblemToForm(form, err);
    } finally { setBusy(submit, false); }
  });
  recompute();
  return form;
}
