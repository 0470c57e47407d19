// API keys (/app/api-keys): list (prefix only), create with scopes and an optional expiry, the
// one-time reveal of a new key with Copy, and revoke with confirmation.
import { get, post, del } from '../api.js';
import {
  $, el, mount, setBusy, applyProblemToForm, clearFieldErrors, setFieldError, problemBanner, showBanner,
  clearBanners, announce, formatDate, relativeTime, emptyState, skeletonCard, icon, list,
} from '../ui.js';
import { confirmDialog, copyText, canAdmin } from './common.js';

const SCOPES = [
  { value: 'read', label: 'Read', help: 'See automations, quotes, usage and tasks.' },
  { value: 'write', label: 'Write', help: 'Create and change automations, requirements and messages.' },
  { value: 'admin', label: 'Admin', help: 'Manage the team, credentials and billing.' },
];

export async function render(root, ctx) {
  ctx.setTitle('API keys');
  const admin = canAdmin(ctx);
  const revealSlot = el('div', { 'aria-live': 'polite', dataset: { revealSlot: '' } });
  const listSlot = el('div', { 'aria-live': 'polite' }, skeletonCard({ rows: 3, label: 'Loading API keys…' }));

  mount(root,
    el('div', { class: 'page-header' },
      el('div', {},
        el('h1', {}, 'API keys'),
        el('p', {}, 'Keys let your own systems call the WRK Copilot API for this workspace. Treat them like passwords.'),
      ),
    ),
    el('div', { class: 'stack stack-lg' },
      revealSlot,
      admin ? createCard(async (created) => {
        mount(revealSlot, revealPanel(created, () => { mount(revealSlot); $('#key-name', root)?.focus(); }));
        await load();
      }) : null,
      listSlot,
    ),
  );

  async function load() {
    try {
      const keys = list(await get('/api/api-keys'));
      mount(listSlot, keysCard(keys, admin, load));
    } catch (err) {
      if (err.status === 403) {
        mount(listSlot, emptyState({ icon: 'lock', title: 'Only admins manage API keys', body: 'Ask an owner or admin of this workspace to create a key for you.' }));
        return;
      }
      mount(listSlot);
      problemBanner(err, { title: "We couldn't load the API keys" });
    }
  }
  await load();
  if (ctx.segments[1] === 'new') $('#key-name', root)?.focus();
}

function createCard(onCreated) {
  const submit = el('button', { type: 'submit', class: 'btn btn-primary' }, icon('plus'), 'Create key');
  const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  const form = el('form', { novalidate: true, dataset: { form: 'api-key' } },
    el('div', { class: 'grid-2' },
      el('div', { class: 'field' },
        el('label', { for: 'key-name' }, 'Name'),
        el('input', { id: 'key-name', name: 'name', type: 'text', required: true, maxlength: '200', autocomplete: 'off', placeholder: 'e.g. CRM sync', 'aria-describedby': 'key-name-help' }),
        el('p', { class: 'help', id: 'key-name-help' }, 'So you recognise it later: where it is used, or who owns it.'),
      ),
      el('div', { class: 'field' },
        el('label', { for: 'key-expires' }, 'Expires ', el('span', { class: 'optional' }, '(optional)')),
        el('input', { id: 'key-expires', name: 'expires_at', type: 'date', min: tomorrow, 'aria-describedby': 'key-expires-help' }),
        el('p', { class: 'help', id: 'key-expires-help' }, 'Leave empty for a key that works until you revoke it.'),
      ),
    ),
    el('fieldset', { class: 'field', dataset: { field: 'scopes' } },
      el('legend', { class: 'label' }, 'Scopes'),
      el('div', { class: 'scope-list' },
        SCOPES.map((s) => el('label', { class: 'check scope-option' },
          el('input', { type: 'checkbox', name: 'scopes', value: s.value, checked: s.value === 'read' }),
          el('span', {}, el('strong', {}, s.label), el('span', { class: 'help' }, s.help)),
        )),
      ),
    ),
    el('div', { class: 'form-actions mt-0' }, submit),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearBanners();
    clearFieldErrors(form);
    const name = form.elements.name.value.trim();
    const scopes = [...form.querySelectorAll('input[name="scopes"]:checked')].map((i) => i.value);
    const date = form.elements.expires_at.value;
    let bad = false;
    if (!name) { setFieldError(form.elements.name, 'Give the key a name.'); bad = true; }
    if (!scopes.length) { setFieldError(form.querySelector('input[name="scopes"]'), 'Pick at least one scope.'); bad = true; }
    if (date && date < tomorrow) { setFieldError(form.elements.expires_at, 'Pick a date in the future.'); bad = true; }
    if (bad) { form.querySelector('[aria-invalid="true"]')?.focus(); return; }
    const body = { name, scopes };
    if (date) body.expires_at = new Date(`${date}T23:59:59Z`).toISOString();
    setBusy(submit, true);
    try {
      const created = await post('/api/api-keys', body);
      form.reset();
      form.querySelector('input[name="scopes"][value="read"]').checked = true;
      await onCreated(created);
    } catch (err) {
      applyProblemToForm(form, err);
    } finally {
      setBusy(submit, false);
    }
  });
  return el('section', { class: 'card', 'aria-labelledby': 'create-key-title' },
    el('div', { class: 'card-header' }, el('h2', { id: 'create-key-title' }, 'Create an API key')),
    el('div', { class: 'card-body' }, form),
  );
}

function revealPanel(created, onDone) {
  const input = el('input', { id: 'new-key', type: 'text', readonly: true, value: created.key, class: 'mono key-input', 'aria-describedby': 'new-key-note', spellcheck: 'false', dataset: { newKey: '' } });
  input.addEventListener('focus', () => input.select());
  const copy = el('button', { type: 'button', class: 'btn btn-primary', dataset: { copy: '' } }, 'Copy');
  const status = el('span', { class: 'copy-status', role: 'status', 'aria-live': 'polite' });
  copy.addEventListener('click', async () => {
    const ok = await copyText(created.key, input);
    status.textContent = ok ? 'Copied to the clipboard.' : 'Select the key and copy it with Ctrl+C / ⌘C.';
    status.classList.toggle('is-ok', ok);
    if (ok) copy.replaceChildren(icon('check'), 'Copied');
  });
  const done = el('button', { type: 'button', class: 'btn btn-secondary', onclick: onDone }, "I've stored it safely");
  const panel = el('section', { class: 'card key-reveal', 'aria-labelledby': 'reveal-title', tabindex: '-1' },
    el('div', { class: 'card-body stack stack-sm' },
      el('h2', { id: 'reveal-title' }, icon('checkCircle'), `Your new key “${created.name}”`),
      el('p', { id: 'new-key-note', class: 'key-note' }, el('strong', {}, "Copy it now — you won't see it again. "), 'We only keep a hash of it; if you lose it, revoke it and create a new one.'),
      el('div', { class: 'key-row' }, el('label', { for: 'new-key', class: 'sr-only' }, 'New API key'), input, copy),
      status,
      el('p', { class: 'help' }, 'Send it as ', el('code', {}, 'Authorization: Bearer <key>'), '.'),
      el('div', { class: 'cluster' }, done),
    ),
  );
  announce('API key created. Copy it now, you will not see it again.');
  queueMicrotask(() => panel.focus());
  return panel;
}

function keysCard(keys, admin, reload) {
  if (!keys.length) {
    return emptyState({ icon: 'key', title: 'No API keys yet', body: 'Create a key above to let your own systems call the API. Each key is shown once, when you create it.' });
  }
  const now = Date.now();
  const rows = keys.map((k) => {
    const revoked = Boolean(k.revoked_at);
    const expired = k.expires_at && new Date(k.expires_at).getTime() < now;
    const state = revoked ? ['Revoked', 'tone-neutral'] : expired ? ['Expired', 'tone-warning'] : ['Active', 'tone-success'];
    const revoke = admin && !revoked
      ? el('button', { type: 'button', class: 'btn btn-ghost btn-sm is-danger-text', dataset: { revoke: k.id } }, 'Revoke')
      : null;
    revoke?.addEventListener('click', async () => {
      clearBanners();
      const ok = await confirmDialog({
        title: `Revoke “${k.name}”?`,
        body: `Anything using ${k.prefix}… stops working with its very next request. This can't be undone.`,
        confirmLabel: 'Revoke key',
        danger: true,
        action: () => del(`/api/api-keys/${encodeURIComponent(k.id)}`),
      });
      if (!ok) return;
      showBanner({ kind: 'success', title: 'Key revoked', detail: `${k.name} (${k.prefix}…) no longer works.` });
      announce(`${k.name} revoked`);
      await reload();
    });
    const lastUsed = k.last_used_at ? el('time', { datetime: k.last_used_at }, relativeTime(k.last_used_at)) : el('span', { class: 'subtle' }, 'Never');
    return el('tr', { class: revoked ? 'is-muted' : null, dataset: { keyRow: k.id } },
      el('td', {}, el('div', { class: 'stack-xs' }, el('strong', {}, k.name), el('span', { class: `badge no-dot ${state[1]}` }, state[0]))),
      el('td', {}, el('code', { dataset: { prefix: '' } }, `${k.prefix}…`)),
      el('td', {}, el('div', { class: 'cluster cluster-xs' }, (k.scopes || []).map((s) => el('span', { class: 'badge no-dot tone-info' }, s)))),
      el('td', { class: 'hide-sm' }, formatDate(k.created_at)),
      el('td', { class: 'hide-sm' }, k.expires_at ? formatDate(k.expires_at) : el('span', { class: 'subtle' }, 'Never')),
      el('td', { class: 'hide-sm' }, lastUsed),
      el('td', { class: 'actions' }, revoke),
    );
  });
  return el('section', { class: 'card', 'aria-labelledby': 'keys-title' },
    el('div', { class: 'card-header' }, el('h2', { id: 'keys-title' }, 'Keys'), el('span', { class: 'count-badge is-muted', dataset: { count: String(keys.length) } }, String(keys.length))),
    el('div', { class: 'table-wrap flush' },
      el('table', { class: 'table', dataset: { apiKeys: '' } },
        el('caption', { class: 'sr-only' }, 'API keys of this workspace'),
        el('thead', {}, el('tr', {},
          el('th', { scope: 'col' }, 'Name'),
          el('th', { scope: 'col' }, 'Key'),
          el('th', { scope: 'col' }, 'Scopes'),
          el('th', { scope: 'col', class: 'hide-sm' }, 'Created'),
          el('th', { scope: 'col', class: 'hide-sm' }, 'Expires'),
          el('th', { scope: 'col', class: 'hide-sm' }, 'Last used'),
          el('th', { scope: 'col' }, el('span', { class: 'sr-only' }, 'Actions')),
        )),
        el('tbody', {}, rows),
      ),
    ),
  );
}
