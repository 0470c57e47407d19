// Settings (/app/settings): the workspace's display name (owners and admins rename it; its
// address never changes) and its address.
import { api } from '../api.js';
import {
  $$, el, mount, bindText, initials, setBusy, applyProblemToForm, clearFieldErrors, setFieldError, showBanner, clearBanners,
} from '../ui.js';
import { canAdmin } from './common.js';

export async function render(root, ctx) {
  ctx.setTitle('Settings');
  const ws = ctx.me?.tenant || {};
  const admin = canAdmin(ctx);
  const banners = el('div', { class: 'banners', 'aria-live': 'polite' });
  const name = el('input', {
    id: 'ws-name', name: 'name', type: 'text', value: ws.name || '', required: true, maxlength: '200', autocomplete: 'organization',
    readonly: !admin, 'aria-describedby': 'ws-name-help',
  });
  const save = el('button', { class: 'btn btn-primary', type: 'submit', disabled: !admin }, 'Save name');
  const form = el('form', { class: 'card', dataset: { form: 'workspace-settings' }, novalidate: true },
    el('div', { class: 'card-header' }, el('h2', { class: 'card-title' }, 'Workspace')),
    el('div', { class: 'card-body stack' },
      el('div', { class: 'field' },
        el('label', { for: 'ws-name' }, 'Name'),
        name,
        el('p', { class: 'help', id: 'ws-name-help' }, admin
          ? 'Shown in the sidebar, the workspace picker, emails and quotes. Up to 200 characters.'
          : 'Only an owner or admin of this workspace can rename it.')),
      el('div', { class: 'field' },
        el('span', { class: 'label' }, 'Address'),
        el('code', { class: 'address', dataset: { address: '' } }, location.host),
        el('p', { class: 'help' }, 'The address stays the same when you rename the workspace, so links keep working.'))),
    admin ? el('div', { class: 'card-footer form-actions' }, save) : null);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearBanners(banners);
    clearFieldErrors(form);
    const value = name.value.trim();
    if (!value) { setFieldError(name, 'Give the workspace a name.'); name.focus(); return; }
    setBusy(save, true);
    try {
      const out = await api('/api/workspace', { method: 'PATCH', body: { name: value } });
      ctx.me.tenant.name = out.name;
      name.value = out.name;
      bindText(document, { workspace_name: out.name });
      for (const n of $$('[data-workspace-initials]')) n.textContent = initials(out.name);
      ctx.setTitle('Settings');
      showBanner({ in: banners, kind: 'success', title: 'Workspace renamed', detail: `It is now called ${out.name}.` });
    } catch (err) {
      applyProblemToForm(form, err, { bannerIn: banners });
    } finally {
      setBusy(save, false);
    }
  });
  mount(root,
    el('div', { class: 'page-header' }, el('div', {}, el('h1', {}, 'Settings'), el('p', {}, 'Name and address of this workspace.'))),
    banners,
    form);
}
