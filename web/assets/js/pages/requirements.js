// Requirements tab: free text (saved with PUT …/requirements) and "Draft a blueprint" from it
// (POST …/ingestion), the version's documents (upload with progress, download, delete),
// ingestion status polling, and the proposal as a readable diff against the current blueprint
// (trigger, steps, systems, volume; each change labelled in words) with "Apply" / "Discard".
import { get, put, post, del, csrfToken } from '../api.js';
import { el, mount, setBusy, showBanner, announce, formatDate, icon } from '../ui.js';
import { confirmDialog } from './common.js';

const ACCEPT = '.txt,.md,.pdf,.docx,text/plain,text/markdown,application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const MAX = 20 * 1024 * 1024;

export function requirementsPanel(page) {
  const vbase = () => `${page.base}/versions/${page.version.number}`;
  const editable = page.version.status === 'intake_in_progress';

  // --- free text
  const banners = el('div', { class: 'banners', 'aria-live': 'polite' });
  const text = el('textarea', { id: 'requirements-text', name: 'text', rows: '10', disabled: !editable, 'aria-describedby': 'requirements-help' }, page.version.requirements || '');
  const saved = el('span', { class: 'help', role: 'status' });
  const save = el('button', { type: 'submit', class: 'btn btn-primary', disabled: !editable, dataset: { saveRequirements: '' } }, 'Save requirements');
  const draft = el('button', { type: 'button', class: 'btn btn-secondary', disabled: !editable, dataset: { ingestRequirements: '' }, 'aria-describedby': 'draft-help' }, 'Draft a blueprint');
  text.addEventListener('input', () => { saved.textContent = 'Unsaved changes'; });
  const form = el('form', { class: 'card', novalidate: true, dataset: { form: 'requirements' } },
    el('div', { class: 'card-header' }, el('h2', { class: 'card-title' }, 'Requirements')),
    el('div', { class: 'card-body' },
      banners,
      el('div', { class: 'field' },
        el('label', { for: 'requirements-text' }, 'What should this automation do?'),
        text,
        el('p', { class: 'help', id: 'requirements-help' }, 'Plain words are fine: what starts it, what it does step by step, which systems it touches, how often.'))),
    editable ? el('div', { class: 'card-footer spread' }, saved,
      el('div', { class: 'cluster' }, draft, save),
      el('p', { class: 'help sr-only', id: 'draft-help' }, 'Saves the text, then reads it together with the documents below and proposes a blueprint.')) : null);
  async function saveText() {
    const v = await put(`${vbase()}/requirements`, { text: text.value });
    page.version = { ...page.version, ...v };
    saved.textContent = 'Saved';
  }
  draft.addEventListener('click', async () => {
    banners.replaceChildren();
    if (!text.value.trim() && !docs.length) {
      showBanner({ in: banners, kind: 'error', title: 'Nothing to read yet', detail: 'Describe the work above or add a document below first.' });
      text.focus();
      return;
    }
    setBusy(draft, true);
    try {
      if (text.value !== (page.version.requirements || '')) await saveText();
      await post(`${vbase()}/ingestion`, {});
      announce('Reading your requirements');
      poll();
      ingestion.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      showBanner({ in: banners, kind: 'error', title: "We couldn't start reading", detail: err?.problem?.detail || err.message });
    } finally { setBusy(draft, false); }
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    banners.replaceChildren();
    setBusy(save, true);
    try {
      await saveText();
      announce('Requirements saved');
    } catch (err) {
      saved.textContent = 'Not saved';
      showBanner({ in: banners, kind: 'error', title: "Requirements weren't saved", detail: err?.problem?.detail || err.message });
    } finally { setBusy(save, false); }
  });

  // --- documents + ingestion
  const docBanners = el('div', { class: 'banners', 'aria-live': 'polite' });
  const file = el('input', { id: 'doc-file', name: 'file', type: 'file', accept: ACCEPT, disabled: !editable, 'aria-describedby': 'doc-help' });
  const upload = el('button', { type: 'submit', class: 'btn btn-secondary', disabled: !editable, dataset: { upload: '' } }, 'Upload');
  const bar = el('div', { class: 'progress', hidden: true, role: 'progressbar', 'aria-label': 'Upload progress', 'aria-valuemin': '0', 'aria-valuemax': '100' }, el('span'));
  const ingestion = el('div', { class: 'ingestion', 'aria-live': 'polite', dataset: { ingestion: '' } });
  const docList = el('div', { class: 'doc-list', dataset: { documents: '' } });
  let docs = [];
  const docForm = el('form', { class: 'card', novalidate: true, dataset: { form: 'document' } },
    el('div', { class: 'card-header' }, el('h2', { class: 'card-title' }, 'Documents')),
    el('div', { class: 'card-body stack' },
      docBanners,
      docList,
      el('div', { class: 'upload-row' },
        el('div', { class: 'field grow' }, el('label', { for: 'doc-file' }, 'Add a document'), file,
          el('p', { class: 'help', id: 'doc-help' }, 'txt, md, pdf or docx, up to 20 MB. We read it and propose a blueprint you can review.')),
        el('div', { class: 'field field-submit' }, el('span', { class: 'label', 'aria-hidden': 'true' }, '\u00a0'), upload)),
      bar,
      ingestion));

  docForm.addEventListener('submit', (e) => {
    e.preventDefault();
    docBanners.replaceChildren();
    const f = file.files?.[0];
    if (!f) { showBanner({ in: docBanners, kind: 'error', title: 'Choose a file first' }); file.focus(); return; }
    if (f.size > MAX) { showBanner({ in: docBanners, kind: 'error', title: 'That file is too large', detail: 'Documents can be up to 20 MB.' }); return; }
    const data = new FormData();
    data.append('file', f);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${vbase()}/documents`);
    xhr.setRequestHeader('Accept', 'application/json');
    const token = csrfToken();
    if (token) xhr.setRequestHeader('X-CSRF-Token', token);
    bar.hidden = false;
    setBusy(upload, true);
    bar.className = 'progress p-0';
    xhr.upload.addEventListener('progress', (ev) => {
      if (!ev.lengthComputable) return;
      const pct = Math.round((ev.loaded / ev.total) * 100);
      bar.setAttribute('aria-valuenow', String(pct));
      bar.className = `progress p-${Math.round(pct / 10) * 10}`;
    });
    xhr.addEventListener('loadend', () => {
      setBusy(upload, false);
      bar.hidden = true;
      if (xhr.status >= 200 && xhr.status < 300) {
        file.value = '';
        announce(`${f.name} uploaded; reading it now`);
        showBanner({ in: docBanners, kind: 'success', title: `${f.name} uploaded`, detail: 'We are reading it and will propose a blueprint.' });
        loadDocs();
        poll();
        return;
      }
      let detail = xhr.status === 0 ? "We couldn't reach the server." : `The upload failed (${xhr.status}).`;
      try { const p = JSON.parse(xhr.responseText); detail = p.detail || detail; } catch { /* keep */ }
      if (xhr.status === 404 || xhr.status === 405) detail = "Document upload isn't available on this server yet. Paste the key points into the requirements above instead.";
      showBanner({ in: docBanners, kind: 'error', title: "The document wasn't uploaded", detail });
    });
    xhr.send(data);
  });

  async function loadDocs() {
    try {
      docs = (await get(`${vbase()}/documents`))?.items || [];
    } catch (err) {
      mount(docList, el('p', { class: 'help' }, `Couldn't load the documents: ${err?.problem?.detail || err.message}`));
      return;
    }
    renderDocs();
  }

  function renderDocs() {
    if (!docs.length) {
      mount(docList, el('p', { class: 'help', dataset: { documentsEmpty: '' } }, 'No documents yet. Add one below, or describe the work in the requirements above.'));
      return;
    }
    mount(docList, el('ul', { class: 'doc-items', 'aria-label': 'Documents' }, docs.map((d) => {
      const remove = editable ? el('button', { type: 'button', class: 'btn btn-ghost btn-sm', dataset: { deleteDocument: d.id }, 'aria-label': `Delete ${d.file_name}` }, 'Delete') : null;
      remove?.addEventListener('click', async () => {
        const ok = await confirmDialog({
          title: `Delete ${d.file_name}?`,
          body: 'The file is removed for good. A proposal already drafted from it stays until you apply or discard it.',
          confirmLabel: 'Delete document',
          danger: true,
          action: () => del(`${vbase()}/documents/${d.id}`),
        });
        if (!ok) { remove.focus(); return; }
        docs = docs.filter((x) => x.id !== d.id);
        renderDocs();
        announce(`${d.file_name} deleted`);
        file.focus();
        poll();
      });
      return el('li', { class: 'doc-item', dataset: { document: d.id } },
        el('div', { class: 'doc-meta' },
          el('a', { href: `${vbase()}/documents/${d.id}`, download: d.file_name, class: 'doc-name', dataset: { downloadDocument: d.id } }, d.file_name),
          el('span', { class: 'help' }, `${KIND[d.kind] || 'File'} · ${formatSize(d.size_bytes)} · added ${formatDate(d.created_at, { time: true })}`)),
        el('div', { class: 'cluster' },
          el('a', { href: `${vbase()}/documents/${d.id}`, download: d.file_name, class: 'btn btn-ghost btn-sm', 'aria-label': `Download ${d.file_name}` }, 'Download'),
          remove));
    })));
  }

  let timer = null;
  async function poll() {
    clearTimeout(timer);
    if (!document.body.contains(ingestion)) return;
    let st;
    try {
      st = await get(`${vbase()}/ingestion`);
    } catch (err) {
      if (err?.status === 404) { mount(ingestion); return; }
      mount(ingestion, el('p', { class: 'help' }, `Couldn't check the reading status: ${err?.problem?.detail || err.message}`));
      return;
    }
    if (!st) { mount(ingestion); return; }
    if (st.status === 'queued' || st.status === 'running') {
      mount(ingestion, el('p', { class: 'ingestion-status', dataset: { ingestionStatus: st.status } },
        el('span', { class: 'spinner', 'aria-hidden': 'true' }),
        st.status === 'queued' ? 'Waiting to read your requirements…' : 'Reading your requirements and drafting a blueprint…'));
      timer = setTimeout(poll, 1500);
      return;
    }
    if (st.status === 'failed') {
      mount(ingestion, el('div', { dataset: { ingestionStatus: 'failed' } }));
      showBanner({ in: ingestion, kind: 'error', title: "We couldn't draft a blueprint", detail: st.error || 'Try another format, or describe the work in the requirements.' });
      return;
    }
    if (st.status === 'done' && st.proposal) {
      mount(ingestion, proposalView(st));
      return;
    }
    mount(ingestion, st.status === 'done' ? el('p', { class: 'help', dataset: { ingestionStatus: 'done' } }, icon('checkCircle'), ' Document read. No open proposal.') : null);
  }

  function proposalView(st) {
    const d = blueprintDiff(page.version.blueprint || {}, st.proposal);
    const applyBtn = el('button', { type: 'button', class: 'btn btn-primary', dataset: { applyProposal: '' }, disabled: !editable }, 'Apply proposal');
    const discardBtn = el('button', { type: 'button', class: 'btn btn-secondary', dataset: { discardProposal: '' }, disabled: !editable }, 'Discard');
    const notes = st.notes || [];
    const cut = notes.filter((n) => /was cut|was not read|is long \(/.test(n));
    const box = el('section', { class: 'proposal stack stack-sm', dataset: { ingestionStatus: 'done' }, 'aria-labelledby': 'proposal-title' },
      el('div', { class: 'spread' },
        el('h3', { class: 'proposal-title', id: 'proposal-title' }, 'Proposed blueprint'),
        st.updated_at ? el('span', { class: 'help' }, formatDate(st.updated_at, { time: true })) : null),
      el('p', { class: 'help' }, d.changes ? `${d.changes} change${d.changes === 1 ? '' : 's'} against the current blueprint. Each change is marked Added, Removed or Changed.` : 'Same as the current blueprint.'),
      cut.length ? showBannerNode('warning', 'Part of the text was not read', cut.join(' ')) : null,
      el('div', { class: 'bp-diff', dataset: { proposalDiff: '' } }, d.sections),
      notes.length ? el('details', { class: 'proposal-notes' },
        el('summary', {}, `How we read it (${notes.length} note${notes.length === 1 ? '' : 's'})`),
        el('ul', {}, notes.map((n) => el('li', {}, n)))) : null,
      el('div', { class: 'cluster' }, applyBtn, discardBtn),
      el('p', { class: 'btn-consequence' }, 'Applying replaces the blueprint (you can still edit it afterwards); discarding keeps the current one.'));
    applyBtn.addEventListener('click', async () => {
      setBusy(applyBtn, true);
      try {
        await post(`${vbase()}/ingestion/apply`, { revision: page.version.revision });
        page.version = await get(vbase());
        page.reloadPanel('blueprint');
        mount(ingestion);
        showBanner({ in: docBanners, kind: 'success', title: 'Proposal applied', detail: 'Review it in the Blueprint tab.' });
        announce('Proposal applied to the blueprint');
      } catch (err) {
        setBusy(applyBtn, false);
        showBanner({ in: docBanners, kind: 'error', title: err?.code === 'stale_revision' ? 'The blueprint changed since this proposal' : "The proposal wasn't applied", detail: err?.problem?.detail || err.message });
      }
    });
    discardBtn.addEventListener('click', async () => {
      setBusy(discardBtn, true);
      try {
        await post(`${vbase()}/ingestion/discard`, {});
        mount(ingestion);
        announce('Proposal discarded');
      } catch (err) {
        setBusy(discardBtn, false);
        showBanner({ in: docBanners, kind: 'error', title: "The proposal wasn't discarded", detail: err?.problem?.detail || err.message });
      }
    });
    return box;
  }

  loadDocs();
  poll();
  return el('div', { class: 'stack stack-lg' }, form, docForm);
}

const KIND = { txt: 'Text', md: 'Markdown', pdf: 'PDF', docx: 'Word' };

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function showBannerNode(kind, title, detail) {
  const region = el('div', { class: 'banners' });
  showBanner({ in: region, kind, title, detail, dismissible: false });
  return region;
}

const KIND_LABEL = { schedule: 'On a schedule', email: 'When an email arrives', webhook: 'When a webhook is called', file: 'When a file arrives', form: 'When a form is submitted', event: 'When something happens', manual: 'Started by hand' };
const ACTION_LABEL = { approve: 'Approve', review: 'Review', sign: 'Sign', extract: 'Extract', read: 'Read', match: 'Match', reconcile: 'Reconcile', validate: 'Check', create: 'Create', update: 'Update', sync: 'Sync', upload: 'Upload', send: 'Send', notify: 'Notify', generate: 'Generate', calculate: 'Calculate', archive: 'Archive', pay: 'Pay' };
const CHANGE = { added: 'Added', removed: 'Removed', changed: 'Changed', same: 'Unchanged' };

function mark(kind) {
  return el('span', { class: `change-mark change-${kind}` }, el('span', { 'aria-hidden': 'true' }, { added: '+', removed: '−', changed: '~', same: '=' }[kind]), ` ${CHANGE[kind]}`);
}

function triggerText(t) {
  if (!t || typeof t !== 'object') return null;
  const kind = KIND_LABEL[t.kind] || (t.kind ? String(t.kind) : 'Trigger');
  return t.system ? `${kind} · ${t.system === 'manual' ? 'no system named' : t.system}` : kind;
}

function stepKey(s) { return String(s?.name || s?.id || '').trim().toLowerCase(); }

function stepLine(s) {
  const parts = [ACTION_LABEL[s.action] || s.action, s.system === 'manual' ? 'no system named' : s.system, s.human ? 'by a person' : null].filter(Boolean);
  return el('span', { class: 'step-line' }, el('span', { class: 'step-name' }, s.name || s.id || 'Unnamed step'), el('span', { class: 'help step-meta' }, parts.join(' · ')));
}

function runsText(v) {
  const n = v?.monthly_runs;
  return typeof n === 'number' ? `${n.toLocaleString()} runs a month` : null;
}

/** The proposal against the current blueprint, section by section, for people. */
export function blueprintDiff(now, next) {
  let changes = 0;
  const row = (label, before, after, attrs = {}) => {
    const kind = before === after ? 'same' : before == null ? 'added' : after == null ? 'removed' : 'changed';
    if (kind !== 'same') changes += 1;
    return el('div', { class: `diff-section change-${kind}`, dataset: { section: attrs.section, change: kind } },
      el('h4', { class: 'bp-label' }, label, ' ', mark(kind)),
      el('dl', { class: 'bp-values' },
        el('dt', {}, 'Now'), el('dd', {}, before == null ? el('span', { class: 'subtle' }, 'Not set') : kind === 'same' ? before : el('del', {}, before)),
        kind === 'same' ? null : el('dt', {}, 'Proposed'),
        kind === 'same' ? null : el('dd', {}, after == null ? el('span', { class: 'subtle' }, 'Not set') : el('ins', {}, after))));
  };
  const sections = [];
  sections.push(row('Trigger', triggerText(now.trigger), triggerText(next.trigger), { section: 'trigger' }));

  // Steps: the proposal's order, each marked against the current step of the same name.
  const oldSteps = Array.isArray(now.steps) ? now.steps : [];
  const newSteps = Array.isArray(next.steps) ? next.steps : [];
  const oldByKey = new Map(oldSteps.map((s) => [stepKey(s), s]));
  const newKeys = new Set(newSteps.map(stepKey));
  const items = newSteps.map((s) => {
    const o = oldByKey.get(stepKey(s));
    const kind = !o ? 'added' : (o.action !== s.action || o.system !== s.system || !!o.human !== !!s.human) ? 'changed' : 'same';
    if (kind !== 'same') changes += 1;
    return el('li', { class: `step change-${kind}`, dataset: { change: kind } }, stepLine(s), ' ', mark(kind),
      kind === 'changed' ? el('span', { class: 'help step-was' }, `was: ${[ACTION_LABEL[o.action] || o.action, o.system].filter(Boolean).join(' · ')}`) : null);
  });
  const removed = oldSteps.filter((s) => !newKeys.has(stepKey(s)));
  changes += removed.length;
  const stepsKind = !items.length && !removed.length ? 'same' : removed.length || items.some((li) => li.dataset.change !== 'same') ? 'changed' : 'same';
  sections.push(el('div', { class: `diff-section change-${stepsKind}`, dataset: { section: 'steps', change: stepsKind } },
    el('h4', { class: 'bp-label' }, `Steps (${newSteps.length})`, ' ', mark(stepsKind)),
    newSteps.length ? el('ol', { class: 'bp-steps' }, items) : el('p', { class: 'help' }, 'The proposal has no steps.'),
    removed.length ? el('div', {},
      el('p', { class: 'help' }, `No longer in the proposal (${removed.length}):`),
      el('ul', { class: 'bp-steps bp-removed' }, removed.map((s) => el('li', { class: 'step change-removed', dataset: { change: 'removed' } }, el('del', {}, stepLine(s)), ' ', mark('removed'))))) : null));

  // Systems: chips marked added / removed / unchanged.
  const names = (bp) => (Array.isArray(bp.systems) ? bp.systems : []).map((s) => s?.name).filter(Boolean);
  const was = names(now);
  const will = names(next);
  const chips = [
    ...will.map((n) => ({ n, kind: was.includes(n) ? 'same' : 'added' })),
    ...was.filter((n) => !will.includes(n)).map((n) => ({ n, kind: 'removed' })),
  ];
  const sysChanges = chips.filter((c) => c.kind !== 'same').length;
  changes += sysChanges;
  const sysKind = sysChanges ? 'changed' : 'same';
  sections.push(el('div', { class: `diff-section change-${sysKind}`, dataset: { section: 'systems', change: sysKind } },
    el('h4', { class: 'bp-label' }, 'Systems', ' ', mark(sysKind)),
    chips.length ? el('ul', { class: 'bp-chips' }, chips.map((c) => el('li', { class: `chip change-${c.kind}`, dataset: { change: c.kind } },
      c.kind === 'removed' ? el('del', {}, c.n === 'manual' ? 'Not named yet' : c.n) : (c.n === 'manual' ? 'Not named yet' : c.n),
      c.kind === 'same' ? null : el('span', { class: 'chip-mark' }, ` (${CHANGE[c.kind].toLowerCase()})`)))) : el('p', { class: 'help' }, 'No systems named.')));

  sections.push(row('Volume', runsText(now.volume), runsText(next.volume), { section: 'volume' }));

  // Anything else the proposal changes, named in words.
  const known = new Set(['trigger', 'steps', 'systems', 'volume']);
  const other = [...new Set([...Object.keys(now), ...Object.keys(next)])]
    .filter((k) => !known.has(k) && JSON.stringify(now[k]) !== JSON.stringify(next[k]));
  if (other.length) {
    changes += other.length;
    sections.push(el('p', { class: 'help', dataset: { section: 'other' } }, `Also changes: ${other.map((k) => k.replace(/_/g, ' ')).join(', ')} (see the Blueprint tab after applying).`));
  }
  return { sections, changes };
}
