// The quote as a document: number, who it is billed to, line items, one-time vs monthly totals,
// included runs, overage unit price, terms and the plugin that priced it. Printable (print
// stylesheet in wrk.css). At narrow widths the line items reflow to two columns (item, amount)
// with quantity × unit price under the item, so the amount never scrolls off-screen.
// Below the document (not printed): what the client can do with it now — accept, sign with the
// workspace's payment method, reject with a reason — each with the consequence under its button;
// once signed, the signature block and the setup-fee invoice.
import { get, post } from '../api.js';
import { el, formatMoney, formatDate, icon, list, announce, applyProblemToForm, clearBanners, clearFieldErrors, problemBanner, setFieldError, setBusy } from '../ui.js';
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
    q.note ? el('p', { class: 'quote-note', dataset: { quoteNote: '' } }, el('strong', {}, 'Note from us. '), q.note) : null,
    q.signature ? signatureBlock(q) : null,
    el('footer', { class: 'quote-foot spread' },
      el('p', { class: 'help' }, `Priced by ${q.plugin?.name || 'pricing'} ${q.plugin?.version || ''}`.trim()),
      el('span', { class: 'quote-foot-actions no-print' },
        el('a', { class: 'btn btn-secondary btn-sm', href: `/api/quotes/${q.id}/pdf`, download: '' }, icon('quote'), 'Download PDF'),
        el('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => window.print() }, icon('quote'), 'Print'))),
    quoteActions(q, automation),
  );
}

/** The signature of a signed quote, as printed on it. */
function signatureBlock(q) {
  const s = q.signature;
  const invoice = (q.invoices || []).find((i) => i.kind === 'setup_fee');
  return el('section', { class: 'quote-signature', 'aria-labelledby': 'quote-signature-title', dataset: { quoteSignature: '' } },
    el('h3', { id: 'quote-signature-title' }, 'Signature'),
    el('p', {}, `Signed by ${s.signer_name}, ${s.signer_title}, on ${formatDate(s.signed_at, { time: true })}.`),
    el('p', { class: 'help quote-hash' }, `Document fingerprint (SHA-256): ${s.document_sha256}`),
    invoice ? el('p', { dataset: { setupInvoice: invoice.status } },
      invoice.status === 'paid'
        ? `Setup-fee invoice ${invoice.number} is paid. Thank you.`
        : `Setup-fee invoice ${invoice.number} for ${formatMoney(invoice.total_cents, invoice.currency)} is issued; pay it by bank transfer and we mark it paid when it arrives.`) : null);
}

const field = (id, label, input, help) => el('div', { class: 'field' },
  el('label', { for: id }, label), input, help ? el('p', { class: 'help', id: `${id}-help` }, help) : null);

/** Re-renders the document in place after an action (its state, its actions). */
async function refresh(node, q, automation, message) {
  const fresh = await get(`/api/quotes/${q.id}`);
  const doc = quoteDocument(fresh, automation);
  node.closest('.quote-doc').replaceWith(doc);
  announce(message);
  doc.querySelector('.quote-actions h3, [data-quote-signature] h3')?.setAttribute('tabindex', '-1');
  doc.querySelector('.quote-actions h3, [data-quote-signature] h3')?.focus();
}

/** What the client can do with the quote now. */
export function quoteActions(q, automation) {
  const money = (c) => formatMoney(c, q.currency);
  const heading = (text) => el('h3', { id: `quote-actions-${q.id}` }, text);
  const closed = {
    expired: 'This quote has expired. Ask us in the automation\'s messages for a new revision.',
    superseded: 'A newer revision replaced this quote; the current one is shown on the automation.',
    rejected: 'You rejected this quote. We are revising it and will send the new revision here.',
  };
  if (closed[q.status]) return el('section', { class: 'quote-actions no-print' }, el('p', { class: 'muted' }, closed[q.status]));
  if (q.status === 'signed') return null;

  const rejectForm = () => {
    const submit = el('button', { type: 'submit', class: 'btn btn-secondary' }, 'Reject the quote');
    const reason = el('textarea', { id: `reject-reason-${q.id}`, name: 'reason', rows: '3', maxlength: '2000', required: true, 'aria-describedby': `reject-reason-${q.id}-help` });
    const form = el('form', { novalidate: true, class: 'quote-reject', dataset: { form: 'reject-quote' } },
      field(`reject-reason-${q.id}`, 'What does not work for you?', reason, 'We read this before we revise the quote.'),
      el('div', { class: 'form-actions mt-0' }, submit),
      el('p', { class: 'help quote-consequence' }, 'The quote goes back to us to revise; your automation waits for the new revision, and nothing is charged.'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearBanners(); clearFieldErrors(form);
      if (!reason.value.trim()) { setFieldError(reason, 'Tell us why, so we can revise it.'); reason.focus(); return; }
      setBusy(submit, true);
      try {
        await post(`/api/quotes/${q.id}/reject`, { reason: reason.value.trim() });
        await refresh(form, q, automation, 'Quote rejected. We will revise it.');
      } catch (err) { applyProblemToForm(form, err); } finally { setBusy(submit, false); }
    });
    return el('details', { class: 'quote-reject-wrap' }, el('summary', {}, 'Reject with a reason'), form);
  };

  if (q.status === 'sent') {
    const accept = el('button', { type: 'button', class: 'btn btn-primary', dataset: { action: 'accept' } }, 'Accept the quote');
    accept.addEventListener('click', async () => {
      clearBanners();
      setBusy(accept, true);
      try {
        await post(`/api/quotes/${q.id}/accept`, {});
        await refresh(accept, q, automation, 'Quote accepted. Sign it to start the build.');
      } catch (err) { problemBanner(err); } finally { setBusy(accept, false); }
    });
    return el('section', { class: 'quote-actions no-print', 'aria-labelledby': `quote-actions-${q.id}`, dataset: { quoteActions: q.status } },
      heading('Your decision'),
      el('div', { class: 'quote-action' }, accept,
        el('p', { class: 'help quote-consequence' }, `Accepting holds this price until ${formatDate(q.valid_until)}. Next you sign, and the setup fee of ${money(q.setup_fee_cents)} is charged.`)),
      rejectForm());
  }

  // accepted: sign
  const stripe = q.payment_provider === 'stripe';
  const name = el('input', { id: `signer-name-${q.id}`, name: 'signer_name', type: 'text', required: true, maxlength: '200', autocomplete: 'name' });
  const title = el('input', { id: `signer-title-${q.id}`, name: 'signer_title', type: 'text', required: true, maxlength: '200', autocomplete: 'organization-title' });
  const agree = el('input', { id: `signer-agree-${q.id}`, name: 'agree', type: 'checkbox', required: true });
  const pm = stripe ? el('input', { id: `signer-pm-${q.id}`, name: 'payment_method', type: 'text', required: true, maxlength: '255', autocomplete: 'off', spellcheck: 'false', placeholder: 'pm_card_visa', 'aria-describedby': `signer-pm-${q.id}-help` }) : null;
  const submit = el('button', { type: 'submit', class: 'btn btn-primary', dataset: { action: 'sign' } },
    Number(q.setup_fee_cents) > 0 ? (stripe ? `Sign and pay ${money(q.setup_fee_cents)}` : 'Sign and get the setup-fee invoice') : 'Sign the quote');
  const form = el('form', { novalidate: true, class: 'quote-sign', dataset: { form: 'sign-quote' } },
    el('div', { class: 'grid-2' },
      field(`signer-name-${q.id}`, 'Your full name', name),
      field(`signer-title-${q.id}`, 'Your title', title)),
    stripe
      ? field(`signer-pm-${q.id}`, 'Card (Stripe payment method id)', pm,
        'Card entry through Stripe.js cannot load in this installation, so enter a Stripe payment method id; in test mode pm_card_visa is a card that pays.')
      : el('p', { class: 'quote-pay-by' }, el('strong', {}, 'Payment: by invoice. '),
        `We issue an invoice for the setup fee of ${money(q.setup_fee_cents)} when you sign; pay it by bank transfer and we mark it paid.`),
    el('div', { class: 'field' }, el('label', { class: 'check', for: `signer-agree-${q.id}` }, agree,
      el('span', {}, `I agree to this quote on behalf of ${q.billed_to?.workspace_name || 'my workspace'}: the setup fee now and ${money(q.monthly_fee_cents)} every month.`))),
    el('div', { class: 'form-actions mt-0' }, submit),
    el('p', { class: 'help quote-consequence' }, 'Signing makes this quote the contract: the setup fee is charged now, the monthly fee from then on, and we start building your automation.'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearBanners(); clearFieldErrors(form);
    let bad = false;
    if (!name.value.trim()) { setFieldError(name, 'Enter your full name.'); bad = true; }
    if (!title.value.trim()) { setFieldError(title, 'Enter your title.'); bad = true; }
    if (pm && !/^pm_[A-Za-z0-9_]+$/.test(pm.value.trim())) { setFieldError(pm, 'A Stripe payment method id starts with pm_.'); bad = true; }
    if (!agree.checked) { setFieldError(agree, 'Tick the box to agree to the quote.'); bad = true; }
    if (bad) { form.querySelector('[aria-invalid="true"]')?.focus(); return; }
    setBusy(submit, true);
    try {
      await post(`/api/quotes/${q.id}/sign`, {
        signer_name: name.value.trim(), signer_title: title.value.trim(), agree: true,
        payment_method: stripe ? { type: 'stripe', payment_method_id: pm.value.trim() } : { type: 'manual' },
      });
      await refresh(form, q, automation, 'Quote signed. We start building.');
    } catch (err) {
      if (err?.problem?.code === 'payment_failed' && pm) setFieldError(pm, err.problem.detail);
      else applyProblemToForm(form, err);
    } finally { setBusy(submit, false); }
  });
  return el('section', { class: 'quote-actions no-print', 'aria-labelledby': `quote-actions-${q.id}`, dataset: { quoteActions: q.status } },
    heading('Sign the quote'), form, rejectForm());
}
