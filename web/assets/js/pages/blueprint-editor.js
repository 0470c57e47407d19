// The blueprint editor: a structured form (trigger, ordered steps, systems, volume) and a JSON
// view of the same object. Saves with the last seen `revision`; a stale one offers a reload.
// Validation issues (JSON-pointer `path`) appear next to the field they point at, plus a summary.
import { put } from '../api.js';
import { el, mount, setBusy, showBanner, announce, icon } from '../ui.js';

const clone = (v) => JSON.parse(JSON.stringify(v ?? {}));
/** JSON with sorted keys, to compare blueprints whatever order the server keeps keys in. */
const canon = (v) => JSON.stringify(v, (k, x) => (x && typeof x === 'object' && !Array.isArray(x)
  ? Object.fromEntries(Object.keys(x).sort().map((key) => [key, x[key]])) : x));
const TRIGGER_KINDS = ['email', 'schedule', 'webhook', 'form', 'file', 'manual', 'event'];

function normalise(bp) {
  const b = clone(bp && typeof bp === 'object' && !Array.isArray(bp) ? bp : {});
  return b;
}

export function blueprintEditor({ version, url, readOnly, onSaved, reloadVersion }) {
  let draft = normalise(version.blueprint);
  let revision = version.revision;
  let issues = version.issues || [];
  let mode = 'form';
  let dirty = false;

  const banners = el('div', { class: 'banners', 'aria-live': 'polite' });
  const summary = el('div', { class: 'issue-summary', 'aria-live': 'polite', dataset: { issueSummary: '' } });
  const body = el('div', { class: 'bp-body' });
  const status = el('span', { class: 'save-status help', role: 'status', 'aria-live': 'polite' });
  const save = el('button', { type: 'submit', class: 'btn btn-primary', dataset: { saveBlueprint: '' }, disabled: readOnly }, 'Save blueprint');
  const formBtn = el('button', { type: 'button', class: 'seg-btn', 'aria-pressed': 'true', dataset: { mode: 'form' } }, 'Form');
  const jsonBtn = el('button', { type: 'button', class: 'seg-btn', 'aria-pressed': 'false', dataset: { mode: 'json' } }, 'JSON');

  const form = el('form', { class: 'card blueprint-editor', novalidate: true, dataset: { form: 'blueprint' } },
    el('div', { class: 'card-header spread' },
      el('h2', { class: 'card-title' }, 'Blueprint'),
      el('div', { class: 'segmented', role: 'group', 'aria-label': 'Editor view' }, formBtn, jsonBtn)),
    el('div', { class: 'card-body stack' },
      readOnly ? el('p', { class: 'help' }, 'Read-only at this stage. Create a new version to change the blueprint.') : null,
      banners, summary, body),
    readOnly ? null : el('div', { class: 'card-footer spread no-print' }, status, el('div', { class: 'cluster' }, save)),
  );

  const markDirty = () => { dirty = true; status.textContent = 'Unsaved changes'; };

  function set(path, value) {
    const parts = path.split('/').filter(Boolean);
    let o = draft;
    for (let i = 0; i < parts.length - 1; i += 1) {
      const k = parts[i];
      const nextIsIndex = /^\d+$/.test(parts[i + 1]);
      if (o[k] === undefined || o[k] === null || typeof o[k] !== 'object') o[k] = nextIsIndex ? [] : {};
      o = o[k];
    }
    const last = parts[parts.length - 1];
    if (value === '' || value === null) delete o[last]; else o[last] = value;
    markDirty();
  }

  function input(path, label, value, attrs = {}) {
    const id = `bp${path.replace(/\//g, '-')}`;
    const node = el('input', { id, name: path, type: 'text', value: value ?? '', dataset: { path }, disabled: readOnly, autocomplete: 'off', ...attrs });
    node.addEventListener('input', () => {
      const v = attrs.type === 'number' ? (node.value === '' ? '' : Number(node.value)) : node.value;
      set(path, v);
      if (node.getAttribute('aria-invalid')) { node.removeAttribute('aria-invalid'); node.closest('.field')?.querySelector('.field-error')?.remove(); }
    });
    return el('div', { class: 'field' }, el('label', { for: id }, label), node);
  }

  function renderForm() {
    const trigger = draft.trigger && typeof draft.trigger === 'object' ? draft.trigger : {};
    const steps = Array.isArray(draft.steps) ? draft.steps : [];
    const systems = Array.isArray(draft.systems) ? draft.systems : [];
    const systemNames = systems.map((s) => s?.name).filter(Boolean);
    const datalist = el('datalist', { id: 'bp-system-names' }, systemNames.map((n) => el('option', { value: n })));

    const stepList = el('ol', { class: 'step-list', dataset: { steps: '' } }, steps.map((s, i) => el('li', { class: 'step-item', dataset: { step: String(i) } },
      el('div', { class: 'step-head' },
        el('span', { class: 'step-num', 'aria-hidden': 'true' }, String(i + 1)),
        el('strong', {}, `Step ${i + 1}`),
        readOnly ? null : el('div', { class: 'cluster step-tools' },
          iconButton('Move up', '↑', i === 0, () => move(i, -1), `Move step ${i + 1} up`),
          iconButton('Move down', '↓', i === steps.length - 1, () => move(i, 1), `Move step ${i + 1} down`),
          iconButton('Remove', '×', false, () => removeAt('steps', i), `Remove step ${i + 1}`))),
      el('div', { class: 'step-grid' },
        input(`/steps/${i}/id`, 'Id', s?.id, { placeholder: 'read-invoice' }),
        input(`/steps/${i}/name`, 'Name', s?.name, { placeholder: 'Read the invoice' }),
        input(`/steps/${i}/system`, 'System', s?.system, { list: 'bp-system-names' }),
        input(`/steps/${i}/action`, 'Action', s?.action, { placeholder: 'fetch attachment' })))));

    const systemList = el('ul', { class: 'system-list', dataset: { systems: '' } }, systems.map((s, i) => el('li', { class: 'system-item' },
      input(`/systems/${i}/name`, `System ${i + 1}`, s?.name, { placeholder: 'Gmail' }),
      readOnly ? null : iconButton('Remove', '×', false, () => removeAt('systems', i), `Remove system ${i + 1}`))));

    mount(body,
      datalist,
      el('datalist', { id: 'bp-trigger-kinds' }, TRIGGER_KINDS.map((k) => el('option', { value: k }))),
      el('fieldset', { class: 'bp-section', dataset: { pathGroup: '/trigger' } },
        el('legend', {}, 'Trigger'),
        el('p', { class: 'help' }, 'What starts a run.'),
        el('div', { class: 'grid-2' },
          input('/trigger/kind', 'Kind', trigger.kind, { list: 'bp-trigger-kinds', placeholder: 'email' }),
          input('/trigger/system', 'System', trigger.system, { list: 'bp-system-names', placeholder: 'Gmail' }))),
      el('fieldset', { class: 'bp-section', dataset: { pathGroup: '/steps' } },
        el('legend', {}, 'Steps'),
        el('p', { class: 'help' }, 'In the order they run.'),
        steps.length ? stepList : el('p', { class: 'muted' }, 'No steps yet.'),
        readOnly ? null : el('button', { type: 'button', class: 'btn btn-secondary btn-sm', dataset: { addStep: '' }, onclick: addStep }, icon('plus'), 'Add step')),
      el('fieldset', { class: 'bp-section', dataset: { pathGroup: '/systems' } },
        el('legend', {}, 'Systems'),
        el('p', { class: 'help' }, 'Every system the trigger and the steps use.'),
        systems.length ? systemList : el('p', { class: 'muted' }, 'No systems yet.'),
        readOnly ? null : el('button', { type: 'button', class: 'btn btn-secondary btn-sm', dataset: { addSystem: '' }, onclick: addSystem }, icon('plus'), 'Add system')),
      el('fieldset', { class: 'bp-section', dataset: { pathGroup: '/volume' } },
        el('legend', {}, 'Volume'),
        el('div', { class: 'grid-2' },
          input('/volume/monthly_runs', 'Runs per month', draft.volume?.monthly_runs, { type: 'number', min: '0', step: '1', inputmode: 'numeric' }))),
    );
    placeIssues();
  }

  function iconButton(label, glyph, disabled, onclick, aria) {
    return el('button', { type: 'button', class: 'btn btn-ghost btn-sm btn-icon', 'aria-label': aria, title: label, disabled, onclick }, glyph);
  }

  function refocus(sel) { requestAnimationFrame(() => body.querySelector(sel)?.focus()); }

  function move(i, d) {
    const s = draft.steps;
    [s[i], s[i + d]] = [s[i + d], s[i]];
    markDirty(); renderForm();
    announce(`Step moved to position ${i + d + 1}`);
    refocus(`[data-step="${i + d}"] [aria-label^="Move step ${i + d + 1} ${d < 0 ? 'up' : 'down'}"]`);
  }
  function removeAt(key, i) {
    draft[key].splice(i, 1);
    markDirty(); renderForm();
    announce(`${key === 'steps' ? 'Step' : 'System'} removed`);
    refocus(key === 'steps' ? '[data-add-step]' : '[data-add-system]');
  }
  function addStep() {
    if (!Array.isArray(draft.steps)) draft.steps = [];
    draft.steps.push({ id: '', name: '', system: '', action: '' });
    markDirty(); renderForm();
    refocus(`#bp-steps-${draft.steps.length - 1}-id`);
  }
  function addSystem() {
    if (!Array.isArray(draft.systems)) draft.systems = [];
    draft.systems.push({ name: '' });
    markDirty(); renderForm();
    refocus(`#bp-systems-${draft.systems.length - 1}-name`);
  }

  let jsonArea = null;
  function renderJson() {
    jsonArea = el('textarea', { id: 'bp-json', class: 'code-area', rows: '20', spellcheck: 'false', disabled: readOnly, 'aria-describedby': 'bp-json-help' }, JSON.stringify(draft, null, 2));
    jsonArea.addEventListener('input', markDirty);
    mount(body, el('div', { class: 'field' },
      el('label', { for: 'bp-json' }, 'Blueprint JSON'),
      jsonArea,
      el('p', { class: 'help', id: 'bp-json-help' }, 'The same blueprint as JSON. Extra fields (SLAs, notes) are kept.')));
    placeIssues();
  }

  /** Reads the JSON view back into the draft; false (with an inline error) if it isn't valid. */
  function readJson() {
    if (mode !== 'json' || !jsonArea) return true;
    try {
      const v = JSON.parse(jsonArea.value);
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('The blueprint must be a JSON object.');
      draft = v;
      return true;
    } catch (e) {
      fieldError(jsonArea, `Not valid JSON: ${e.message}`);
      jsonArea.focus();
      return false;
    }
  }

  function setMode(m) {
    if (m === mode) return;
    if (!readJson()) return;
    mode = m;
    formBtn.setAttribute('aria-pressed', String(m === 'form'));
    jsonBtn.setAttribute('aria-pressed', String(m === 'json'));
    if (m === 'form') renderForm(); else renderJson();
  }
  formBtn.addEventListener('click', () => setMode('form'));
  jsonBtn.addEventListener('click', () => setMode('json'));

  function fieldError(node, message) {
    const wrap = node.closest('.field') || node.parentElement;
    let p = wrap.querySelector(':scope > .field-error');
    if (!p) { p = el('p', { class: 'field-error', id: `${node.id}-err` }); node.after(p); }
    p.textContent = message;
    node.setAttribute('aria-invalid', 'true');
    node.setAttribute('aria-describedby', p.id);
  }

  function targetFor(path) {
    if (!path) return null;
    let p = path;
    while (p) {
      const input = body.querySelector(`[data-path="${CSS.escape(p)}"]`);
      if (input) return { input };
      const group = body.querySelector(`[data-path-group="${CSS.escape(p)}"]`);
      if (group) return { group };
      p = p.replace(/\/[^/]*$/, '');
    }
    return null;
  }

  function placeIssues() {
    for (const e of body.querySelectorAll('.field-error, .group-issue')) e.remove();
    for (const n of body.querySelectorAll('[aria-invalid]')) n.removeAttribute('aria-invalid');
    const errors = issues.filter((i) => i.severity === 'error');
    const warnings = issues.filter((i) => i.severity !== 'error');
    if (!issues.length) {
      mount(summary, version.blueprint && Object.keys(version.blueprint).length
        ? el('p', { class: 'issue-ok', dataset: { noIssues: '' } }, icon('checkCircle'), 'No validation issues. Ready for pricing.')
        : null);
    } else {
      mount(summary, el('div', { class: ['issue-box', errors.length ? 'has-errors' : 'has-warnings'] },
        el('strong', {}, errors.length ? `${errors.length} error${errors.length === 1 ? '' : 's'} to fix before pricing` : 'Warnings (pricing can go ahead)'),
        el('ul', { class: 'issue-list' }, [...errors, ...warnings].map((i) => el('li', { class: `issue issue-${i.severity}`, dataset: { issue: i.code } },
          el('span', { class: `badge no-dot ${i.severity === 'error' ? 'tone-danger' : 'tone-warning'}` }, i.severity),
          ' ',
          mode === 'form' && targetFor(i.path)
            ? el('a', { href: '#', onclick: (e) => { e.preventDefault(); const t = targetFor(i.path); (t.input || t.group.querySelector('input, button'))?.focus(); } }, i.message)
            : el('span', {}, i.message),
          i.path ? el('code', { class: 'issue-path' }, i.path) : null)))));
    }
    if (mode !== 'form') return;
    for (const i of issues) {
      const t = targetFor(i.path);
      if (!t) continue;
      if (t.input) {
        if (i.severity === 'error') fieldError(t.input, i.message);
        else { const w = el('p', { class: 'help field-warning group-issue' }, i.message); t.input.after(w); }
      } else {
        const legend = t.group.querySelector('legend');
        legend.after(el('p', { class: [i.severity === 'error' ? 'field-error' : 'help field-warning', 'group-issue'] }, i.message));
      }
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (readOnly) return;
    if (!readJson()) return;
    banners.replaceChildren();
    setBusy(save, true);
    status.textContent = 'Saving…';
    try {
      const sent = canon(draft);
      const res = await put(url, { blueprint: draft, revision });
      revision = res.revision;
      issues = res.issues || [];
      const same = canon(res.blueprint) === sent;
      if (!same) draft = normalise(res.blueprint);
      version = { ...version, blueprint: res.blueprint, revision, issues };
      dirty = canon(draft) !== canon(res.blueprint); // typed on while it saved
      onSaved?.(res);
      // Keep the same inputs (focus, caret) when the server kept the blueprint as sent.
      if (mode === 'form' && same) placeIssues();
      else if (mode === 'form') renderForm(); else renderJson();
      const n = issues.filter((i) => i.severity === 'error').length;
      status.textContent = n ? `Saved · ${n} error${n === 1 ? '' : 's'} to fix` : 'Saved · no errors';
      announce(status.textContent);
    } catch (err) {
      status.textContent = 'Not saved';
      if (err?.code === 'stale_revision' || (err?.status === 409 && /revision/i.test(err?.problem?.detail || ''))) {
        const reload = el('button', { type: 'button', class: 'btn btn-primary btn-sm', dataset: { reloadBlueprint: '' } }, 'Reload the latest');
        reload.addEventListener('click', async () => {
          const v = await reloadVersion();
          version = v; draft = normalise(v.blueprint); revision = v.revision; issues = v.issues || []; dirty = false;
          banners.replaceChildren();
          status.textContent = 'Reloaded';
          if (mode === 'form') renderForm(); else renderJson();
        });
        showBanner({ in: banners, kind: 'warning', title: 'Someone changed this blueprint in the meantime', detail: 'Reload to see their version; your unsaved edits here will be replaced. (Switch to JSON first to copy them.)', actions: [reload], dismissible: false });
      } else {
        const p = err?.problem || {};
        showBanner({ in: banners, kind: 'error', title: p.title || "The blueprint wasn't saved", detail: p.detail || err?.message });
        if (Array.isArray(p.issues)) { issues = p.issues; placeIssues(); }
      }
    } finally {
      setBusy(save, false);
    }
  });

  window.addEventListener('beforeunload', (e) => { if (dirty && document.body.contains(form)) { e.preventDefault(); } });
  renderForm();
  return form;
}
