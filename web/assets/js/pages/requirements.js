// Requirements tab: free text (saved with PUT …/requirements), document upload with progress,
// ingestion status polling, and the ingestion proposal as a diff against the current blueprint
// with "Apply proposal" / "Discard".
import { get, put, post, csrfToken } from '../api.js';
import { el, mount, setBusy, showBanner, announce, formatDate, icon } from '../ui.js';

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
  text.addEventListener('input', () => { saved.textContent = 'Unsaved changes'; });
  const form = el('form', { class: 'card', novalidate: true, dataset: { form: 'requirements' } },
    el('div', { class: 'card-header' }, el('h2', { class: 'card-title' }, 'Requirements')),
    el('div', { class: 'card-body' },
      banners,
      el('div', { class: 'field' },
        el('label', { for: 'requirements-text' }, 'What should this automation do?'),
        text,
        el('p', { class: 'help', id: 'requirements-help' }, 'Plain words are fine: what starts it, what it does step by step, which systems it touches, how often.'))),
    editable ? el('div', { class: 'card-footer spread' }, saved, save) : null);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    banners.replaceChildren();
    setBusy(save, true);
    try {
      const v = await put(`${vbase()}/requirements`, { text: text.value });
      page.version = { ...page.version, ...v };
      saved.textContent = 'Saved';
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
  const docForm = el('form', { class: 'card', novalidate: true, dataset: { form: 'document' } },
    el('div', { class: 'card-header' }, el('h2', { class: 'card-title' }, 'Documents')),
    el('div', { class: 'card-body stack' },
      docBanners,
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
        st.status === 'queued' ? 'Waiting to read your document…' : (st.progress ? `Reading your document… ${st.progress}` : 'Reading your document and drafting a blueprint…')));
      timer = setTimeout(poll, 1500);
      return;
    }
    if (st.status === 'failed') {
      mount(ingestion, el('div', { dataset: { ingestionStatus: 'failed' } }));
      showBanner({ in: ingestion, kind: 'error', title: "We couldn't read that document", detail: st.error || 'Try another format, or describe the work in the requirements.' });
      return;
    }
    if (st.status === 'done' && st.proposal) {
      mount(ingestion, proposalView(st));
      return;
    }
    mount(ingestion, st.status === 'done' ? el('p', { class: 'help', dataset: { ingestionStatus: 'done' } }, icon('checkCircle'), ' Document read. No open proposal.') : null);
  }

  function proposalView(st) {
    const rows = diff(page.version.blueprint || {}, st.proposal);
    const applyBtn = el('button', { type: 'button', class: 'btn btn-primary', dataset: { applyProposal: '' }, disabled: !editable }, 'Apply proposal');
    const discardBtn = el('button', { type: 'button', class: 'btn btn-secondary', dataset: { discardProposal: '' }, disabled: !editable }, 'Discard');
    const box = el('div', { class: 'proposal stack stack-sm', dataset: { ingestionStatus: 'done' } },
      el('div', { class: 'spread' },
        el('h3', { class: 'proposal-title' }, 'Proposed blueprint'),
        st.created_at ? el('span', { class: 'help' }, formatDate(st.created_at, { time: true })) : null),
      el('p', { class: 'help' }, rows.length ? `${rows.length} change${rows.length === 1 ? '' : 's'} against the current blueprint.` : 'Same as the current blueprint.'),
      rows.length ? el('div', { class: 'table-wrap' }, el('table', { class: 'table diff-table' },
        el('caption', { class: 'sr-only' }, 'Differences between the current blueprint and the proposal'),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Field'), el('th', { scope: 'col' }, 'Now'), el('th', { scope: 'col' }, 'Proposed'))),
        el('tbody', {}, rows.map((r) => el('tr', { class: `diff-${r.kind}` },
          el('td', {}, el('code', {}, r.path)),
          el('td', { class: 'diff-old' }, r.before === undefined ? el('span', { class: 'subtle' }, '—') : el('del', {}, fmt(r.before))),
          el('td', { class: 'diff-new' }, r.after === undefined ? el('span', { class: 'subtle' }, 'removed') : el('ins', {}, fmt(r.after)))))))) : null,
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

  poll();
  return el('div', { class: 'stack stack-lg' }, form, docForm);
}

/** Leaf-level differences between two JSON values, as JSON-pointer rows. */
export function diff(a, b, path = '') {
  const isObj = (v) => v && typeof v === 'object';
  if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => {
      if (!(k in b)) return [{ path: `${path}/${k}`, before: a[k], after: undefined, kind: 'removed' }];
      if (!(k in a)) return [{ path: `${path}/${k}`, before: undefined, after: b[k], kind: 'added' }];
      return diff(a[k], b[k], `${path}/${k}`);
    });
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  return [{ path: path || '/', before: a, after: b, kind: 'changed' }];
}

function fmt(v) {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
