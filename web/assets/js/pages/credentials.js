// Credentials (/app/credentials, flow 25): provide a credential per system with a form for its
// kind, see each one by its masked hint and status, rotate it (new fields) or delete it. A
// secret is sent once and never shown again: the API only ever answers the hint.
import { get, post, put, del } from '../api.js';
import {
  el, mount, setBusy, applyProblemToForm, clearFieldErrors, setFieldError, problemBanner, showBanner,
  clearBanners, announce, formatDate, emptyState, skeletonCard, icon, list,
} from '../ui.js';
import { confirmDialog, canAdmin } from './common.js';

/** The fields of each kind, as the API takes them (`fields` map). */
const KINDS = {
  api_key: {
    label: 'API key',
    fields: [{ name: 'api_key', label: 'API key', secret: true }],
  },
  oauth: {
    label: 'OAuth client',
    fields: [
      { name: 'client_id', label: 'Client ID' },
      { name: 'client_secret', label: 'Client secret', secret: true },
      { name: 'refresh_token', label: 'Refresh token', secret: true, optional: true },
    ],
  },
  basic: {
    label: 'User name and password',
    fields: [
      { name: 'username', label: 'User name' },
      { name: 'password', label: 'Password', secret: true },
    ],
  },
};

const STATUS = {
  active: ['Active', 'tone-success'],
  failed: ['Failing', 'tone-danger'],
  revoked: ['Deleted', 'tone-neutral'],
};

export async function render(root, ctx) {
  ctx.setTitle('Credentials');
  const listSlot = el('div', { 'aria-live': 'polite' }, skeletonCard({ rows: 3, label: 'Loading credentials…' }));
  mount(root,
    el('div', { class: 'page-header' },
      el('div', {},
        el('h1', {}, 'Credentials'),
        el('p', {}, 'What your automations use to reach your systems. They are encrypted when you save them and never shown again: you see a masked hint only.'),
      ),
    ),
    el('div', { class: 'stack stack-lg' },
      !canAdmin(ctx) ? el('p', { class: 'muted', dataset: { readOnly: '' } }, 'Only owners and admins add, rotate or delete credentials.') : credentialForm({ idPrefix: 'new', title: 'Add a credential', submitLabel: 'Save credential', onSubmit: async (body) => {
        const c = await post('/api/credentials', body);
        showBanner({ kind: 'success', title: 'Credential saved', detail: `${c.system}: ${c.hint}` });
        announce(`Credential for ${c.system} saved`);
        await load();
      } }),
      listSlot,
    ),
  );

  async function load() {
    try {
      const items = list(await get('/api/credentials'));
      mount(listSlot, credentialsCard(items, load, canAdmin(ctx)));
    } catch (err) {
      mount(listSlot);
      problemBanner(err, { title: "We couldn't load the credentials" });
    }
  }
  await load();
}

/** The form for one credential: system (new only), kind, and the kind's fields. */
function credentialForm({ idPrefix, title, submitLabel, onSubmit, fixed = null }) {
  const fieldsSlot = el('div', { class: 'stack stack-sm' });
  const submit = el('button', { type: 'submit', class: 'btn btn-primary' }, icon('check'), submitLabel);
  const kindSelect = fixed ? null : el('select', { id: `${idPrefix}-kind`, name: 'kind' },
    Object.entries(KINDS).map(([value, k]) => el('option', { value }, k.label)));
  const form = el('form', { novalidate: true, dataset: { form: `credential-${idPrefix}` }, autocomplete: 'off' },
    fixed ? null : el('div', { class: 'grid-2' },
      el('div', { class: 'field' },
        el('label', { for: `${idPrefix}-system` }, 'System'),
        el('input', { id: `${idPrefix}-system`, name: 'system', type: 'text', required: true, maxlength: '200', placeholder: 'e.g. Gmail', 'aria-describedby': `${idPrefix}-system-help` }),
        el('p', { class: 'help', id: `${idPrefix}-system-help` }, 'As your blueprint names it; upper or lower case does not matter.'),
      ),
      el('div', { class: 'field' }, el('label', { for: `${idPrefix}-kind` }, 'Kind'), kindSelect),
    ),
    fieldsSlot,
    el('div', { class: 'form-actions mt-0' }, submit),
  );
  const kind = () => fixed?.kind || kindSelect.value;
  const drawFields = () => mount(fieldsSlot, KINDS[kind()].fields.map((f) => el('div', { class: 'field' },
    el('label', { for: `${idPrefix}-${f.name}` }, f.label, f.optional ? el('span', { class: 'optional' }, ' (optional)') : null),
    el('input', {
      id: `${idPrefix}-${f.name}`, name: f.name, type: f.secret ? 'password' : 'text', required: !f.optional,
      autocomplete: f.secret ? 'new-password' : 'off', spellcheck: 'false', dataset: { credentialField: f.name },
    }),
  )));
  kindSelect?.addEventListener('change', drawFields);
  drawFields();
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearBanners();
    clearFieldErrors(form);
    const fields = {};
    let bad = false;
    if (!fixed && !form.elements.system.value.trim()) { setFieldError(form.elements.system, 'Name the system.'); bad = true; }
    for (const f of KINDS[kind()].fields) {
      const v = form.elements[f.name].value;
      if (v.trim()) fields[f.name] = v;
      else if (!f.optional) { setFieldError(form.elements[f.name], `Enter the ${f.label.toLowerCase()}.`); bad = true; }
    }
    if (bad) { form.querySelector('[aria-invalid="true"]')?.focus(); return; }
    const body = fixed ? { fields } : { system: form.elements.system.value.trim(), kind: kind(), fields };
    setBusy(submit, true);
    try {
      await onSubmit(body);
      form.reset();
      drawFields();
    } catch (err) {
      applyProblemToForm(form, err);
    } finally {
      setBusy(submit, false);
    }
  });
  const titleId = `${idPrefix}-title`;
  return el('section', { class: 'card', 'aria-labelledby': titleId },
    el('div', { class: 'card-header' }, el('h2', { id: titleId }, title)),
    el('div', { class: 'card-body' }, form),
  );
}

function credentialsCard(items, reload, admin) {
  if (!items.length) {
    return emptyState({ icon: 'credentials', title: 'No credentials yet', body: 'Add one above for each system your automations use. Going live needs every system to have an active credential.' });
  }
  const rotateSlot = el('div', { 'aria-live': 'polite' });
  const rows = items.map((c) => {
    const [label, tone] = STATUS[c.status] || [c.status, 'tone-neutral'];
    const rotate = el('button', { type: 'button', class: 'btn btn-secondary btn-sm', dataset: { rotate: c.id } }, 'Rotate');
    rotate.addEventListener('click', () => {
      mount(rotateSlot, credentialForm({
        idPrefix: `rotate-${c.id.slice(-6)}`,
        title: `New ${KINDS[c.kind]?.label.toLowerCase() || 'credential'} for ${c.system}`,
        submitLabel: 'Replace credential',
        fixed: c,
        onSubmit: async (body) => {
          const r = await put(`/api/credentials/${encodeURIComponent(c.id)}`, body);
          mount(rotateSlot);
          showBanner({ kind: 'success', title: 'Credential replaced', detail: `${r.system}: ${r.hint}` });
          await reload();
        },
      }));
      rotateSlot.querySelector('input')?.focus();
    });
    const remove = el('button', { type: 'button', class: 'btn btn-ghost btn-sm is-danger-text', dataset: { deleteCredential: c.id } }, 'Delete');
    remove.addEventListener('click', async () => {
      clearBanners();
      const ok = await confirmDialog({
        title: `Delete the credential for ${c.system}?`,
        body: 'The secret is destroyed. Automations that use this system cannot go live or resume until you add a new one.',
        confirmLabel: 'Delete credential',
        danger: true,
        action: () => del(`/api/credentials/${encodeURIComponent(c.id)}`),
      });
      if (!ok) return;
      showBanner({ kind: 'success', title: 'Credential deleted', detail: `${c.system} has no credential now.` });
      await reload();
    });
    return el('tr', { dataset: { credentialRow: c.id } },
      el('td', {}, el('strong', {}, c.system)),
      el('td', {}, KINDS[c.kind]?.label || c.kind),
      el('td', {}, el('code', { dataset: { hint: '' } }, c.hint)),
      el('td', {}, el('div', { class: 'stack-xs' },
        el('span', { class: `badge no-dot ${tone}`, dataset: { status: c.status } }, label),
        c.status === 'failed' && c.last_error ? el('span', { class: 'help' }, c.last_error) : null)),
      el('td', { class: 'hide-sm' }, formatDate(c.updated_at, { time: true })),
      el('td', { class: 'actions' }, admin ? el('div', { class: 'cluster cluster-xs' }, rotate, remove) : null),
    );
  });
  return el('div', { class: 'stack stack-lg' },
    el('section', { class: 'card', 'aria-labelledby': 'creds-title' },
      el('div', { class: 'card-header' }, el('h2', { id: 'creds-title' }, 'Stored credentials'), el('span', { class: 'count-badge is-muted' }, String(items.length))),
      el('div', { class: 'table-wrap flush' },
        el('table', { class: 'table', dataset: { credentials: '' } },
          el('caption', { class: 'sr-only' }, 'Credentials of this workspace'),
          el('thead', {}, el('tr', {},
            el('th', { scope: 'col' }, 'System'),
            el('th', { scope: 'col' }, 'Kind'),
            el('th', { scope: 'col' }, 'Hint'),
            el('th', { scope: 'col' }, 'Status'),
            el('th', { scope: 'col', class: 'hide-sm' }, 'Updated'),
            el('th', { scope: 'col' }, el('span', { class: 'sr-only' }, 'Actions')),
          )),
          el('tbody', {}, rows),
        ),
      ),
    ),
    rotateSlot,
  );
}
