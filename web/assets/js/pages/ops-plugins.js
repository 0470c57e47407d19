// Ops console: Plugins (ops.{base}/ops/plugins). One card per kind with the active version and the
// installed ones (shadow-run, activate, roll back), an upload drop zone that shows the validation
// report, shadow-run results as a diff table, and the activation history.
import { api, get, post } from '../api.js';
import { el, mount, icon, skeletonCard, emptyState, problemBanner, withBusy, formatMoney, formatDate, relativeTime, announce } from '../ui.js';
import { confirmDialog } from './common.js';

const KINDS = [
  { kind: 'pricing', title: 'Pricing', body: 'Turns a blueprint and volume into a quote.' },
  { kind: 'validation', title: 'Validation', body: 'Checks blueprints and opens tasks for what is missing.' },
  { kind: 'ingestion', title: 'Ingestion', body: 'Drafts a blueprint from requirement text and documents.' },
];

const short = (sha) => (sha ? sha.slice(0, 12) : '—');

function badge(text, tone) {
  return el('span', { class: ['badge', `tone-${tone}`] }, text);
}

/** The validation report of an upload (201 or 422). */
function reportView(report, { ok, reasons = [] }) {
  const m = report?.manifest;
  const samples = report?.samples || [];
  return el('section', { class: 'card', 'data-report': ok ? 'valid' : 'invalid', 'aria-live': 'polite' },
    el('div', { class: 'card-header' },
      el('h3', {}, ok ? 'Installed' : 'Refused'),
      ok ? badge('valid', 'success') : badge(`${reasons.length} reason${reasons.length === 1 ? '' : 's'}`, 'danger'),
    ),
    el('div', { class: 'card-body stack stack-sm' },
      el('dl', { class: 'dl' },
        el('dt', {}, 'Plugin'), el('dd', {}, m ? `${m.name} ${m.version} (${m.kind})` : 'no valid manifest'),
        el('dt', {}, 'SHA-256'), el('dd', { class: 'mono' }, short(report?.sha256)),
        el('dt', {}, 'Size'), el('dd', {}, `${Math.ceil((report?.size_bytes || 0) / 1024)} KiB`),
      ),
      reasons.length ? el('ul', { class: 'ws-list', 'data-reasons': '' },
        reasons.map((r) => el('li', { class: 'field-error' }, r))) : null,
      samples.length ? el('div', { class: 'table-wrap' }, el('table', { class: 'table' },
        el('caption', { class: 'sr-only' }, 'Sample runs'),
        el('thead', {}, el('tr', {}, el('th', {}, 'Sample'), el('th', {}, 'Result'), el('th', { class: 'num' }, 'Fuel'), el('th', { class: 'num' }, 'Time'), el('th', { class: 'num' }, 'Memory'))),
        el('tbody', {}, samples.map((s) => el('tr', {},
          el('td', {}, s.name),
          el('td', {}, s.ok ? badge('ok', 'success') : badge('failed', 'danger')),
          el('td', { class: 'num' }, s.stats ? s.stats.fuel_used.toLocaleString() : '—'),
          el('td', { class: 'num' }, s.stats ? `${s.stats.wall_time} µs` : '—'),
          el('td', { class: 'num' }, s.stats ? `${Math.ceil(s.stats.peak_memory_bytes / 1024)} KiB` : '—'),
        ))),
      )) : null,
    ),
  );
}

function money(cents) {
  return typeof cents === 'number' ? formatMoney(cents) : '—';
}

function signed(cents) {
  if (!cents) return badge('±0', 'neutral');
  const s = `${cents > 0 ? '+' : '−'}${formatMoney(Math.abs(cents))}`;
  return badge(s, cents > 0 ? 'warning' : 'success');
}

/** Shadow-run results: one row per changed case (before → after, delta). */
function shadowView(plugin, r) {
  const head = el('div', { class: 'card-header' },
    el('h3', {}, `Shadow run of ${plugin.name} ${plugin.version}`),
    el('div', { class: 'cluster' },
      badge(`${r.cases} case${r.cases === 1 ? '' : 's'}`, 'neutral'),
      badge(`${r.changed} changed`, r.changed ? 'warning' : 'success'),
      r.failed ? badge(`${r.failed} failed`, 'danger') : null,
      plugin.kind === 'pricing' ? badge(`max Δ ${formatMoney(r.max_delta_cents || 0)}`, r.max_delta_cents ? 'warning' : 'neutral') : null,
    ));
  if (!r.cases) {
    return el('section', { class: 'card', 'data-shadow': '' }, head,
      el('div', { class: 'card-body' }, el('p', { class: 'muted' }, `No recorded ${plugin.kind} calls yet: real calls are recorded as they happen.`)));
  }
  if (!r.diffs?.length) {
    return el('section', { class: 'card', 'data-shadow': '' }, head,
      el('div', { class: 'card-body' }, el('p', { class: 'inline-icon is-ok', dataset: { shadowSame: '' } }, icon('checkCircle', { size: 18 }), r.cases === 1 ? 'Same answer on the one case.' : `Same answers on all ${r.cases} cases.`)));
  }
  const rows = r.diffs.map((d) => {
    const before = d.before || {};
    const after = d.after || {};
    const what = d.error ? el('span', { class: 'field-error' }, d.error) : (d.fields || []).join(', ');
    if (plugin.kind === 'pricing') {
      const p = d.pricing || {};
      return el('tr', {},
        el('td', {}, `#${d.id || d.index}`),
        el('td', { class: 'num' }, money(before.setup_fee_cents), el('br'), el('span', { class: 'muted text-xs' }, `${money(before.monthly_fee_cents)}/mo`)),
        el('td', { class: 'num' }, d.after ? money(after.setup_fee_cents) : '—', el('br'), el('span', { class: 'muted text-xs' }, d.after ? `${money(after.monthly_fee_cents)}/mo` : '')),
        el('td', { class: 'num' }, d.error ? badge('failed', 'danger') : el('div', { class: 'stack stack-sm' }, signed(p.setup_delta_cents), signed(p.monthly_delta_cents))),
        el('td', {}, what),
      );
    }
    return el('tr', {},
      el('td', {}, `#${d.id || d.index}`),
      el('td', {}, el('code', {}, JSON.stringify(before).slice(0, 120))),
      el('td', {}, d.after ? el('code', {}, JSON.stringify(after).slice(0, 120)) : '—'),
      el('td', {}, d.error ? badge('failed', 'danger') : badge('changed', 'warning')),
      el('td', {}, what),
    );
  });
  return el('section', { class: 'card', 'data-shadow': '' }, head,
    el('div', { class: 'table-wrap flush' }, el('table', { class: 'table' },
      el('caption', { class: 'sr-only' }, 'Cases whose output changed'),
      el('thead', {}, el('tr', {},
        el('th', {}, 'Case'),
        el('th', { class: plugin.kind === 'pricing' ? 'num' : '' }, 'Before'),
        el('th', { class: plugin.kind === 'pricing' ? 'num' : '' }, 'After'),
        el('th', { class: plugin.kind === 'pricing' ? 'num' : '' }, 'Delta'),
        el('th', {}, 'Changed'))),
      el('tbody', {}, rows))));
}

export async function render(root, ctx) {
  ctx.setTitle('Plugins');
  const output = el('div', { class: 'stack', 'data-plugin-output': '' });
  const cards = el('div', { class: 'grid', 'data-plugin-cards': '' }, skeletonCard(), skeletonCard(), skeletonCard());
  const history = el('div', { 'data-plugin-history': '' }, skeletonCard({ rows: 3 }));
  const fileInput = el('input', { type: 'file', accept: '.wasm,application/wasm', class: 'sr-only', id: 'plugin-file', 'data-plugin-file': '' });
  const zone = el('label', { class: 'empty-state', for: 'plugin-file', 'data-dropzone': '', tabindex: '0' },
    el('span', { class: 'empty-state-icon' }, icon('plugins')),
    el('h2', {}, 'Upload a plugin'),
    el('p', {}, 'Drop a .wasm file here or choose one. It is validated (imports, manifest, limits, sample runs) and installed, not activated.'),
    el('span', { class: 'btn btn-secondary btn-sm' }, 'Choose file…'),
  );

  mount(root,
    el('div', { class: 'page-header' }, el('div', {},
      el('h1', {}, 'Plugins'),
      el('p', {}, 'One active plugin per kind. Upload, shadow-run over recent real calls, activate, roll back.'))),
    el('div', { class: 'stack stack-lg' },
      cards,
      el('section', { class: 'stack', 'aria-label': 'Upload' }, zone, fileInput),
      output,
      el('section', { class: 'stack' }, el('h2', {}, 'History'), history),
    ),
  );

  async function upload(file) {
    if (!file) return;
    mount(output, el('p', { class: 'muted' }, `Validating ${file.name}…`));
    try {
      const res = await api('/api/ops/plugins', { method: 'POST', body: file, headers: { 'Content-Type': 'application/wasm' } });
      mount(output, reportView(res.report, { ok: true }));
      output.scrollIntoView({ block: 'nearest' });
      announce(`${res.name} ${res.version} installed`);
      await refresh();
    } catch (err) {
      const p = err?.problem || {};
      if (p.code === 'validation_failed' && p.report) {
        mount(output, reportView(p.report, { ok: false, reasons: p.reasons || [] }));
        output.scrollIntoView({ block: 'nearest' });
        announce('The plugin was refused', { assertive: true });
      } else {
        mount(output);
        problemBanner(err, { title: 'Upload failed' });
      }
    } finally {
      fileInput.value = '';
    }
  }

  fileInput.addEventListener('change', () => upload(fileInput.files?.[0]));
  zone.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); fileInput.click(); } });
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.setAttribute('aria-dropeffect', 'copy'); });
  zone.addEventListener('dragleave', () => zone.removeAttribute('aria-dropeffect'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.removeAttribute('aria-dropeffect');
    upload(e.dataTransfer?.files?.[0]);
  });

  async function shadow(plugin, button) {
    await withBusy(button, async () => {
      try {
        const r = await post(`/api/ops/plugins/${plugin.id}/shadow-run`, { limit: 200 });
        mount(output, shadowView(plugin, r));
        output.scrollIntoView({ block: 'nearest' });
      } catch (err) {
        problemBanner(err, { title: 'Shadow run failed' });
      }
    });
  }

  async function activate(plugin, current) {
    const ok = await confirmDialog({
      title: `Activate ${plugin.name} ${plugin.version}?`,
      body: `Every ${plugin.kind} call without a workspace pin uses it from now on${current ? `, instead of ${current.name} ${current.version}` : ''}. Calls in flight finish on the version they started with.`,
      confirmLabel: 'Activate',
      action: () => post(`/api/ops/plugins/${plugin.id}/activate`, {}),
    });
    if (ok) { announce(`${plugin.name} ${plugin.version} is active`); await refresh(); }
  }

  async function rollback(kind, current) {
    let back = null;
    const ok = await confirmDialog({
      title: `Roll back the ${kind} plugin?`,
      body: `${current ? `${current.name} ${current.version}` : 'The active plugin'} stops running; the plugin that was active before it runs again.`,
      confirmLabel: 'Roll back',
      danger: true,
      // A refusal shows the problem's detail (a sentence) inside the dialog.
      action: async () => { back = await post('/api/ops/plugins/rollback', { kind }); },
    });
    if (ok) { announce(back ? `${back.name} ${back.version} is active again` : 'Rolled back'); await refresh(); }
  }

  function kindCard(k, plugins, rollbackTo = {}) {
    const mine = plugins.filter((p) => p.kind === k.kind).sort((a, b) => (a.installed_at < b.installed_at ? 1 : -1));
    const active = mine.find((p) => p.active);
    return el('section', { class: 'card', 'data-kind': k.kind },
      el('div', { class: 'card-header' },
        el('h2', {}, k.title),
        active ? badge(`${active.name} ${active.version}`, 'success') : badge('none active', 'danger'),
      ),
      el('div', { class: 'card-body stack stack-sm' },
        el('p', { class: 'muted text-xs' }, k.body),
        mine.length ? el('ul', { class: 'ws-list' }, mine.map((p) => el('li', { 'data-plugin': p.id, class: 'stack stack-sm' },
          el('div', { class: 'cluster' },
            el('strong', {}, `${p.name} ${p.version}`),
            p.active ? badge('active', 'success') : null,
            el('span', { class: 'muted text-xs mono', title: p.sha256 }, short(p.sha256)),
          ),
          el('span', { class: 'muted text-xs' }, `installed ${relativeTime(p.installed_at)} by ${p.installed_by}`),
          el('div', { class: 'cluster cluster-xs' },
            el('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-shadow-run': p.id, onclick: (e) => shadow(p, e.currentTarget) }, 'Shadow run'),
            p.active ? null : el('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-activate': p.id, onclick: () => activate(p, active) }, 'Activate'),
          ),
        ))) : el('p', { class: 'muted' }, 'Nothing installed.'),
      ),
      rollbackFooter(k, mine, active, rollbackTo[k.kind]),
    );
  }

  /** "Roll back to X" when there is an earlier active plugin; otherwise why there is none. */
  function rollbackFooter(k, mine, active, target) {
    const to = target && mine.find((p) => p.sha256 === target);
    const why = `rollback-why-${k.kind}`;
    if (!target) {
      return el('div', { class: 'card-footer' },
        el('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-rollback': k.kind, disabled: true, 'aria-describedby': why }, 'Roll back'),
        el('span', { class: 'muted text-xs', id: why, dataset: { rollbackWhy: k.kind } }, `Nothing to roll back to: no other ${k.kind} plugin was active before ${active ? `${active.name} ${active.version}` : 'this one'}.`));
    }
    return el('div', { class: 'card-footer' },
      el('button', { type: 'button', class: 'btn btn-secondary btn-sm', 'data-rollback': k.kind, onclick: () => rollback(k.kind, active) },
        to ? `Roll back to ${to.name} ${to.version}` : 'Roll back'));
  }

  function historyView(items) {
    if (!items.length) return emptyState({ icon: 'clock', title: 'No changes yet', compact: true });
    const label = (p, sha) => (p ? `${p.name} ${p.version}` : sha ? short(sha) : '—');
    return el('div', { class: 'table-wrap' }, el('table', { class: 'table' },
      el('caption', { class: 'sr-only' }, 'Activation history'),
      el('thead', {}, el('tr', {}, el('th', {}, 'When'), el('th', {}, 'Kind'), el('th', {}, 'Change'), el('th', {}, 'Now'), el('th', {}, 'Before'), el('th', {}, 'By'))),
      el('tbody', {}, items.slice(0, 50).map((h) => el('tr', {},
        el('td', { title: formatDate(h.at, { time: true }) }, relativeTime(h.at)),
        el('td', {}, h.kind),
        el('td', {}, h.action, h.tenant ? el('span', { class: 'muted text-xs' }, ` (workspace ${short(h.tenant)})`) : null),
        el('td', {}, label(h.plugin, h.sha256)),
        el('td', {}, label(h.previous_plugin, h.previous)),
        el('td', {}, h.actor),
      ))),
    ));
  }

  async function refresh() {
    try {
      const [list, hist] = await Promise.all([get('/api/ops/plugins'), get('/api/ops/plugins/history')]);
      mount(cards, KINDS.map((k) => kindCard(k, list.items || [], list.rollback_to || {})));
      mount(history, historyView(hist.items || []));
    } catch (err) {
      mount(cards);
      problemBanner(err);
    }
  }

  await refresh();
}
