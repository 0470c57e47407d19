// Ops console: /ops/clients lists the client records (flow 33) with their health and a form to add
// one; /ops/clients/{id} is one client: its details (editable), the workspaces linked to it (link
// an existing one), its health with the suggested status and its reasons (accepted in one click,
// flow 34), and the history of every status set. Ops never create workspaces or accounts here.
import { get, post, patch, put } from '../api.js';
import {
  el, mount, emptyState, skeletonCard, formatDate, list, setBusy, applyProblemToForm, clearFieldErrors, setFieldError, showBanner, clearBanners, icon,
} from '../ui.js';

const HEALTH = {
  green: { label: 'Healthy', tone: 'tone-success' },
  yellow: { label: 'Needs attention', tone: 'tone-warning' },
  red: { label: 'At risk', tone: 'tone-danger' },
};

function healthBadge(status) {
  if (!status) return el('span', { class: 'badge no-dot tone-neutral', dataset: { health: '' } }, 'Not set');
  const h = HEALTH[status];
  return el('span', { class: `badge ${h.tone}`, dataset: { health: status } }, h.label);
}

export async function render(root, ctx) {
  const segs = ctx.path.replace(/^\/ops\/?/, '').split('/').filter(Boolean);
  if (segs.length >= 2) return renderClient(root, ctx, segs[1]);
  return renderList(root, ctx);
}

// ---------------------------------------------------------------------------------------------
// The list and the "new client" form

async function renderList(root, ctx) {
  ctx.setTitle('Clients');
  const banners = el('div', { class: 'banners', 'aria-live': 'polite' });
  const results = el('div', { class: 'stack', 'aria-live': 'polite', dataset: { clientList: '' } });
  const form = clientForm({ submitLabel: 'Add client', idPrefix: 'new-client' });
  form.el.dataset.form = 'new-client';
  const dialog = el('section', { class: 'card', hidden: true, dataset: { newClient: '' } },
    el('div', { class: 'card-header' }, el('h2', { class: 'card-title' }, 'New client')),
    form.el);
  const open = el('button', { type: 'button', class: 'btn btn-primary', dataset: { addClient: '' } }, icon('plus'), 'Add client');
  open.addEventListener('click', () => { dialog.hidden = false; form.focus(); });
  form.el.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = form.read();
    if (!body) return;
    await form.busy(async () => {
      try {
        const c = await post('/api/ops/clients', body);
        location.assign(`/ops/clients/${c.id}`);
      } catch (err) {
        applyProblemToForm(form.el, err, { bannerIn: banners });
      }
    });
  });
  mount(root,
    el('div', { class: 'page-header' },
      el('div', {}, el('h1', {}, 'Clients'), el('p', {}, 'The companies behind the workspaces: contacts, account manager, notes and health.')),
      el('div', { class: 'cluster' }, open)),
    banners, dialog, results);

  mount(results, skeletonCard({ rows: 3, label: 'Loading clients…' }));
  let items;
  try {
    items = list(await get('/api/ops/clients', { query: { limit: 200 } }));
  } catch (err) {
    mount(results, emptyState({ icon: 'alert', title: "We couldn't load the clients", body: err?.problem?.detail, action: { label: 'Try again', onClick: () => renderList(root, ctx) } }));
    return;
  }
  if (!items.length) {
    mount(results, emptyState({ icon: 'clients', title: 'No clients yet', body: 'A client groups the workspaces of one company and carries its contacts and health.', action: { label: 'Add the first client', onClick: () => open.click() } }));
    return;
  }
  mount(results, el('div', { class: 'table-wrap' }, el('table', { class: 'table table-responsive' },
    el('caption', { class: 'sr-only' }, 'Clients'),
    el('thead', {}, el('tr', {}, ['Client', 'Health', 'Workspaces', 'Account manager', 'Updated'].map((h) => el('th', { scope: 'col', class: h === 'Workspaces' ? 'num' : null }, h)))),
    el('tbody', {}, items.map((c) => el('tr', { dataset: { clientId: c.id } },
      el('td', { 'data-label': 'Client' }, el('a', { href: `/ops/clients/${c.id}` }, c.name),
        c.contacts?.[0] ? el('span', { class: 'cell-sub' }, c.contacts[0].name) : null),
      el('td', { 'data-label': 'Health' }, healthBadge(c.health)),
      el('td', { 'data-label': 'Workspaces', class: 'num' }, String(c.workspace_count)),
      el('td', { 'data-label': 'Account manager' }, c.account_manager || el('span', { class: 'muted' }, 'None yet')),
      el('td', { 'data-label': 'Updated' }, el('time', { datetime: c.updated_at }, formatDate(c.updated_at)))))))));
}

/**
 * The client fields as a form (name, account manager, notes, contacts one per line as
 * "Name, email, phone, role"). `read()` returns the request body, or null after marking the
 * field that needs fixing.
 */
function clientForm({ client = null, submitLabel, idPrefix }) {
  const id = (f) => `${idPrefix}-${f}`;
  const name = el('input', { id: id('name'), name: 'name', type: 'text', required: true, maxlength: '200', autocomplete: 'organization', value: client?.name || '' });
  const manager = el('input', { id: id('manager'), name: 'account_manager', type: 'text', maxlength: '200', value: client?.account_manager || '' });
  const contacts = el('textarea', { id: id('contacts'), name: 'contacts', rows: '3', 'aria-describedby': id('contacts-help') });
  contacts.value = (client?.contacts || []).map((c) => [c.name, c.email, c.phone, c.role].map((v) => v || '').join(', ').replace(/(, )+$/, '')).join('\n');
  const notes = el('textarea', { id: id('notes'), name: 'notes', rows: '3', maxlength: '5000' });
  notes.value = client?.notes || '';
  const submit = el('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel);
  const form = el('form', { novalidate: true },
    el('div', { class: 'card-body stack' },
      el('div', { class: 'field' }, el('label', { for: id('name') }, 'Company name'), name),
      el('div', { class: 'field' }, el('label', { for: id('manager') }, 'Account manager'), manager),
      el('div', { class: 'field', dataset: { field: 'contacts' } }, el('label', { for: id('contacts') }, 'Contacts'), contacts,
        el('p', { class: 'help', id: id('contacts-help') }, 'One person per line: name, email, phone, role. Only the name is required.')),
      el('div', { class: 'field' }, el('label', { for: id('notes') }, 'Notes'), notes)),
    el('div', { class: 'card-footer form-actions' }, submit));
  return {
    el: form,
    focus: () => name.focus(),
    busy: async (fn) => { setBusy(submit, true); try { await fn(); } finally { setBusy(submit, false); } },
    read() {
      clearFieldErrors(form);
      if (!name.value.trim()) { setFieldError(name, 'Give the client a name.'); name.focus(); return null; }
      const people = [];
      for (const line of contacts.value.split('\n').map((l) => l.trim()).filter(Boolean)) {
        const [n, email, phone, role] = line.split(',').map((p) => p.trim());
        if (!n) { setFieldError(contacts, 'Each line starts with the person’s name.'); contacts.focus(); return null; }
        people.push({ name: n, email: email || null, phone: phone || null, role: role || null });
      }
      return { name: name.value.trim(), account_manager: manager.value.trim(), notes: notes.value.trim(), contacts: people };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One client

async function renderClient(root, ctx, id) {
  mount(root, skeletonCard({ rows: 5, label: 'Loading the client…' }));
  let client;
  try {
    client = await get(`/api/ops/clients/${encodeURIComponent(id)}`);
  } catch (err) {
    ctx.setTitle('Client');
    mount(root, emptyState({ icon: err?.status === 404 ? 'compass' : 'alert', title: err?.status === 404 ? "We couldn't find that client" : "We couldn't load this client", body: err?.problem?.detail, action: { label: 'Back to clients', href: '/ops/clients' }, headingLevel: 1 }));
    return;
  }
  ctx.setTitle(client.name, 'Clients');
  const banners = el('div', { class: 'banners', 'aria-live': 'polite', dataset: { clientBanners: '' } });
  const health = el('div', { class: 'stack' });
  const workspaces = el('div', { class: 'stack' });
  const details = el('div', { class: 'stack' });
  const title = el('h1', { dataset: { clientName: '' } }, client.name);
  const badge = el('span', { dataset: { healthBadge: '' } }, healthBadge(client.health));

  const paint = (c) => {
    client = c;
    title.textContent = c.name;
    mount(badge, healthBadge(c.health));
    mount(health, healthCard(c, banners, paint));
    mount(workspaces, workspacesCard(c, banners, paint));
    mount(details, detailsCard(c, banners, paint));
  };
  mount(root,
    el('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' }, el('a', { href: '/ops/clients' }, 'Clients'), el('span', { 'aria-hidden': 'true' }, ' / '), el('span', { 'aria-current': 'page' }, client.name)),
    el('header', { class: 'automation-header' }, el('div', { class: 'automation-title' }, title, badge)),
    banners,
    el('div', { class: 'grid-2 client-grid' }, el('div', { class: 'stack' }, health, workspaces), details));
  paint(client);
}

function healthCard(c, banners, paint) {
  const s = c.suggestion;
  const setHealth = async (status, note, button) => {
    clearBanners(banners);
    setBusy(button, true);
    try {
      paint(await put(`/api/ops/clients/${c.id}/health`, { status, note }));
      showBanner({ in: banners, kind: 'success', title: `Health set to ${HEALTH[status].label.toLowerCase()}` });
    } catch (err) {
      setBusy(button, false);
      showBanner({ in: banners, kind: 'error', title: "The health wasn't saved", detail: err?.problem?.detail });
    }
  };
  let suggestion;
  if (s.status) {
    const accept = el('button', { type: 'button', class: 'btn btn-secondary btn-sm', dataset: { acceptSuggestion: s.status } }, icon('check'), `Accept: ${HEALTH[s.status].label.toLowerCase()}`);
    const note = `Suggested: ${s.reasons.filter((r) => r.status === s.status).map((r) => r.text).join('; ')}`;
    accept.addEventListener('click', () => setHealth(s.status, note, accept));
    suggestion = el('div', { class: 'stack stack-sm', dataset: { suggestion: s.status } },
      el('p', {}, 'Suggested from the workspaces: ', healthBadge(s.status)),
      el('ul', { class: 'queue-list', dataset: { reasons: '' } }, s.reasons.map((r) => el('li', {}, el('span', {}, r.text), healthBadge(r.status)))),
      el('div', { class: 'cluster' }, accept));
  } else {
    suggestion = el('p', { class: 'muted', dataset: { suggestion: '' } }, c.workspaces.length
      ? 'Not enough data to suggest a status yet.'
      : 'Link a workspace to get a suggested status.');
  }
  const noData = s.no_data.length
    ? el('p', { class: 'help', dataset: { noData: '' } }, `No data: ${s.no_data.map((n) => n.label.toLowerCase()).join(', ')}.`)
    : null;

  const statusSelect = el('select', { id: 'health-status', name: 'status' },
    Object.entries(HEALTH).map(([k, h]) => el('option', { value: k, selected: k === (c.health || s.status || 'green') }, h.label)));
  const note = el('textarea', { id: 'health-note', name: 'note', rows: '2', maxlength: '1000', required: true });
  const save = el('button', { type: 'submit', class: 'btn btn-primary btn-sm' }, 'Set health');
  const form = el('form', { class: 'stack stack-sm', novalidate: true, dataset: { form: 'health' } },
    el('div', { class: 'field' }, el('label', { for: 'health-status' }, 'Status'), statusSelect),
    el('div', { class: 'field' }, el('label', { for: 'health-note' }, 'Note'), note),
    el('div', { class: 'cluster' }, save));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    if (!note.value.trim()) { setFieldError(note, 'Say why, in a few words.'); note.focus(); return; }
    setHealth(statusSelect.value, note.value.trim(), save);
  });

  const history = c.health_history.length
    ? el('ol', { class: 'queue-list', dataset: { healthHistory: '' } }, c.health_history.map((h) => el('li', {},
      el('span', {}, h.note, el('span', { class: 'cell-sub' }, el('time', { datetime: h.at }, formatDate(h.at, { time: true })))),
      healthBadge(h.status))))
    : el('p', { class: 'muted', dataset: { healthHistory: '' } }, 'No status set yet.');

  return el('section', { class: 'card', dataset: { healthCard: '' } },
    el('div', { class: 'card-header' }, el('h2', { class: 'card-title' }, 'Health')),
    el('div', { class: 'card-body stack' }, suggestion, noData, form,
      el('h3', { class: 'card-title' }, 'History'), history));
}

function workspacesCard(c, banners, paint) {
  const linked = c.workspaces.length
    ? el('ul', { class: 'queue-list', dataset: { clientWorkspaces: '' } }, c.workspaces.map((w) => el('li', {},
      el('a', { href: `/ops/automations?workspace=${encodeURIComponent(w.id)}` }, w.name),
      el('span', { class: 'muted' }, w.subdomain))))
    : el('p', { class: 'muted', dataset: { clientWorkspaces: '' } }, 'No workspace linked yet.');
  const pick = el('select', { id: 'link-workspace', name: 'tenant_id', disabled: true }, el('option', { value: '' }, 'Loading workspaces…'));
  const link = el('button', { type: 'submit', class: 'btn btn-secondary btn-sm', disabled: true }, 'Link workspace');
  const form = el('form', { class: 'cluster', novalidate: true, dataset: { form: 'link-workspace' } },
    el('div', { class: 'field grow' }, el('label', { for: 'link-workspace' }, 'Link an existing workspace'), pick),
    el('div', { class: 'field field-submit' }, el('span', { class: 'label', 'aria-hidden': 'true' }, '\u00a0'), link));
  get('/api/ops/tenants', { query: { limit: 200 } }).then((data) => {
    const mine = new Set(c.workspaces.map((w) => w.id));
    const free = list(data).filter((t) => !mine.has(t.id));
    mount(pick, el('option', { value: '' }, free.length ? 'Choose a workspace' : 'Every workspace is linked already'),
      free.map((t) => el('option', { value: t.id }, t.client ? `${t.name} (now with ${t.client.name})` : t.name)));
    pick.disabled = link.disabled = !free.length;
  }).catch(() => { mount(pick, el('option', { value: '' }, "Workspaces couldn't be loaded")); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    if (!pick.value) { setFieldError(pick, 'Choose a workspace.'); pick.focus(); return; }
    setBusy(link, true);
    try {
      paint(await post(`/api/ops/clients/${c.id}/workspaces`, { tenant_id: pick.value }));
      showBanner({ in: banners, kind: 'success', title: 'Workspace linked' });
    } catch (err) {
      setBusy(link, false);
      applyProblemToForm(form, err, { bannerIn: banners });
    }
  });
  return el('section', { class: 'card', dataset: { workspacesCard: '' } },
    el('div', { class: 'card-header' }, el('h2', { class: 'card-title' }, 'Workspaces')),
    el('div', { class: 'card-body stack' }, linked, form));
}

function detailsCard(c, banners, paint) {
  const form = clientForm({ client: c, submitLabel: 'Save changes', idPrefix: 'client' });
  form.el.dataset.form = 'client';
  form.el.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = form.read();
    if (!body) return;
    clearBanners(banners);
    await form.busy(async () => {
      try {
        paint(await patch(`/api/ops/clients/${c.id}`, body));
        showBanner({ in: banners, kind: 'success', title: 'Client saved' });
      } catch (err) {
        applyProblemToForm(form.el, err, { bannerIn: banners });
      }
    });
  });
  return el('section', { class: 'card', dataset: { detailsCard: '' } },
    el('div', { class: 'card-header' }, el('h2', { class: 'card-title' }, 'Details')),
    form.el);
}
