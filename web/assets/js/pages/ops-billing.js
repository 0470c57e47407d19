// Ops billing (/ops/billing): per workspace, the pricing override editor (flow 19: discount,
// fixed setup fee, fixed overage price, a pinned pricing-plugin version; ops_admin saves it),
// and billing periods (flow 20): finalize a month for one workspace or all of them, with the
// invoices it made or found.
import { get, post, put } from '../api.js';
import {
  el, mount, emptyState, setBusy, announce, formatMoney, list, applyProblemToForm, clearFieldErrors, setFieldError,
} from '../ui.js';

const STATUS = { draft: 'Draft', finalized: 'Due', paid: 'Paid', failed: 'Payment failed' };
const TONE = { draft: 'tone-neutral', finalized: 'tone-info', paid: 'tone-success', failed: 'tone-danger' };

const field = (id, label, input, help) => el('div', { class: 'field' },
  el('label', { for: id }, label), input, help ? el('p', { class: 'help', id: `${id}-help` }, help) : null);

function thisMonth() {
  const d = new Date();
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

function workspaceSelect(id, tenants, { all = false } = {}) {
  return el('select', { id, name: 'tenant' },
    all ? el('option', { value: '' }, 'Every workspace') : null,
    tenants.map((t) => el('option', { value: t.id }, t.name)));
}

function overridesCard(tenants, plugins) {
  const ws = workspaceSelect('ov-tenant', tenants);
  const num = (id, max) => el('input', { id, type: 'number', inputmode: 'numeric', min: '0', max: String(max), step: '1', 'aria-describedby': `${id}-help` });
  const discount = num('ov-discount', 100);
  const setup = num('ov-setup', 1000000000);
  const overage = num('ov-overage', 1000000000);
  const versions = [...new Set(plugins.filter((p) => p.kind === 'pricing').map((p) => p.version))];
  const version = el('select', { id: 'ov-version', 'aria-describedby': 'ov-version-help' },
    el('option', { value: '' }, 'The active pricing plugin'),
    versions.map((v) => el('option', { value: v }, `Version ${v}`)));
  const status = el('p', { class: 'help', 'aria-live': 'polite', dataset: { overrideStatus: '' } });
  const form = el('form', { class: 'stack', novalidate: true, dataset: { overrideForm: '' } },
    field('ov-tenant', 'Workspace', ws),
    el('div', { class: 'grid-2' },
      field('ov-discount', 'Discount (%)', discount, 'Taken off every unit price. Leave empty for none.'),
      field('ov-setup', 'Fixed setup fee (cents)', setup, 'Replaces the computed setup fee. Leave empty to compute it.'),
      field('ov-overage', 'Price per extra run (cents)', overage, 'Replaces the computed overage price.'),
      field('ov-version', 'Pricing plugin', version, 'Pin the workspace to an installed version.')),
    el('div', { class: 'cluster' }, el('button', { type: 'submit', class: 'btn btn-primary', dataset: { saveOverride: '' } }, 'Save override')),
    status);

  const value = (input) => (input.value.trim() === '' ? null : Number(input.value));
  async function load() {
    if (!ws.value) return;
    clearFieldErrors(form);
    try {
      const o = await get(`/api/ops/tenants/${ws.value}/pricing-override`);
      discount.value = o.discount_percent ?? '';
      setup.value = o.setup_fee_cents ?? '';
      overage.value = o.overage_unit_cents ?? '';
      version.value = o.plugin_version ?? '';
      status.textContent = o.updated_at ? `Last changed ${new Date(o.updated_at).toLocaleString()}.` : 'No override: the pricing plugin decides every price.';
    } catch (err) {
      applyProblemToForm(form, err);
    }
  }
  ws.addEventListener('change', load);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    for (const [input, max] of [[discount, 100], [setup, 1000000000], [overage, 1000000000]]) {
      const v = value(input);
      if (v !== null && (!Number.isInteger(v) || v < 0 || v > max)) {
        setFieldError(input, `Enter a whole number from 0 to ${max}, or leave it empty.`);
        return;
      }
    }
    const button = form.querySelector('[data-save-override]');
    setBusy(button, true);
    try {
      await put(`/api/ops/tenants/${ws.value}/pricing-override`, {
        discount_percent: value(discount), setup_fee_cents: value(setup), overage_unit_cents: value(overage),
        plugin_version: version.value || null,
      });
      const name = ws.selectedOptions[0]?.textContent || 'the workspace';
      announce(`The pricing override of ${name} is saved.`);
      await load();
      status.textContent = `Saved. Every new quote and re-price of ${name} uses it.`;
    } catch (err) {
      applyProblemToForm(form, err);
    } finally { setBusy(button, false); }
  });
  load();
  return el('section', { class: 'card card-body stack', 'aria-labelledby': 'ov-title' },
    el('h2', { id: 'ov-title' }, 'Pricing override'),
    el('p', { class: 'muted' }, 'Per-workspace prices passed to the pricing plugin. Only an ops admin can save them; every change is in the workspace’s audit log.'),
    form);
}

function resultsTable(answer) {
  const items = answer.invoices || [];
  if (!items.length) {
    return emptyState({ icon: 'billing', title: 'Nothing to bill', body: 'No workspace had a subscription in this period.', headingLevel: 3, compact: true });
  }
  return el('div', { class: 'table-wrap' },
    el('table', { class: 'table table-responsive', dataset: { finalizeResults: '' } },
      el('caption', { class: 'sr-only' }, `Invoices of ${answer.period}`),
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, 'Workspace'), el('th', { scope: 'col' }, 'Invoice'),
        el('th', { scope: 'col' }, 'Status'), el('th', { scope: 'col', class: 'num' }, 'Total'),
        el('th', { scope: 'col' }, 'This run'))),
      el('tbody', {}, items.map((i) => el('tr', { dataset: { invoice: i.id } },
        el('td', { 'data-label': 'Workspace' }, i.workspace_name),
        el('td', { 'data-label': 'Invoice' }, i.number),
        el('td', { 'data-label': 'Status' }, el('span', { class: `badge no-dot ${TONE[i.status] || 'tone-neutral'}` }, STATUS[i.status] || 'Invoice')),
        el('td', { 'data-label': 'Total', class: 'num' }, formatMoney(i.total_cents, i.currency)),
        el('td', { 'data-label': 'This run' }, i.created ? 'Made now' : 'Already made, unchanged'))))));
}

function periodsCard(tenants) {
  const period = el('input', { id: 'fin-period', type: 'month', value: thisMonth(), max: thisMonth(), required: true, 'aria-describedby': 'fin-period-help' });
  const ws = workspaceSelect('fin-tenant', tenants, { all: true });
  const results = el('div', { 'aria-live': 'polite', dataset: { finalizeOutput: '' } });
  const form = el('form', { class: 'stack', novalidate: true, dataset: { finalizeForm: '' } },
    el('div', { class: 'grid-2' },
      field('fin-period', 'Month (UTC)', period, 'Runs by itself on the 1st for the month before. Running it again changes nothing.'),
      field('fin-tenant', 'Workspace', ws)),
    el('div', { class: 'cluster' }, el('button', { type: 'submit', class: 'btn btn-primary', dataset: { finalize: '' } }, 'Finalize the period')),
    results);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    if (!/^\d{4}-\d{2}$/.test(period.value)) {
      setFieldError(period, 'Choose a month.');
      return;
    }
    const button = form.querySelector('[data-finalize]');
    setBusy(button, true);
    try {
      const answer = await post('/api/ops/billing/finalize', { period: period.value, tenant_id: ws.value || null });
      mount(results, resultsTable(answer));
      announce(`${answer.invoices.length} invoice${answer.invoices.length === 1 ? '' : 's'} for ${answer.period}.`);
    } catch (err) {
      applyProblemToForm(form, err);
    } finally { setBusy(button, false); }
  });
  return el('section', { class: 'card card-body stack', 'aria-labelledby': 'fin-title' },
    el('h2', { id: 'fin-title' }, 'Billing periods'),
    el('p', { class: 'muted' }, 'Each workspace’s monthly fees, overage and committed-volume changes become one invoice per month, charged through the payment provider.'),
    form);
}

export async function render(root, ctx) {
  ctx.setTitle('Billing');
  const [tenants, plugins] = await Promise.all([
    get('/api/ops/tenants', { query: { limit: 200 } }).then(list),
    get('/api/ops/plugins').then(list).catch(() => []),
  ]);
  mount(root,
    el('div', { class: 'page-header' }, el('div', {},
      el('h1', {}, 'Billing'),
      el('p', {}, 'Pricing overrides per workspace, and the monthly billing periods.'))),
    tenants.length
      ? el('div', { class: 'stack' }, overridesCard(tenants, plugins), periodsCard(tenants))
      : emptyState({ icon: 'billing', title: 'No workspaces yet', body: 'Billing starts when a workspace signs a quote.' }));
}
