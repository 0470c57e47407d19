// Settings (/app/settings): the workspace's display name (owners and admins rename it; its
// address never changes) and its address; and whether people joining by invitation verify their
// email address with a separate link (flow 1B, per workspace).
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
    el('div', { class: 'page-header' }, el('div', {}, el('h1', {}, 'Settings'), el('p', {}, 'Name, address and sign-up rules of this workspace.'))),
    banners,
    el('div', { class: 'stack' }, form, verificationCard(admin, banners)));
}

/** Flow 1B per workspace: invitees verify their email with a separate link, or not. */
function verificationCard(admin, banners) {
  const box = el('input', { id: 'ws-invitees-verify', type: 'checkbox', name: 'invitees_must_verify', disabled: true, 'aria-describedby': 'ws-invitees-verify-help' });
  const help = el('p', { class: 'help', id: 'ws-invitees-verify-help' }, 'Loading…');
  const card = el('section', { class: 'card', dataset: { verificationSetting: '' } },
    el('div', { class: 'card-header' }, el('h2', { class: 'card-title' }, 'Joining by invitation')),
    el('div', { class: 'card-body stack' },
      el('label', { class: 'check', for: 'ws-invitees-verify' }, box, el('span', {}, 'People who join by invitation must verify their email address')),
      help));
  const explain = (v) => {
    const base = v.invitees_must_verify
      ? 'An invitee gets a separate verification email and can log in once they follow it.'
      : 'Opening the invitation link counts as proof of the address, so invitees start at once.';
    const deployment = v.deployment_requires_verification
      ? ' People who sign up without an invitation always verify on this installation.'
      : ' This installation does not ask people who sign up without an invitation to verify.';
    help.textContent = base + deployment + (admin ? '' : ' Only an owner or admin can change this.');
  };
  api('/api/settings/email-verification').then((v) => {
    box.checked = v.invitees_must_verify;
    box.disabled = !admin;
    explain(v);
  }).catch(() => { help.textContent = "We couldn't load this setting. Reload the page to try again."; });
  box.addEventListener('change', async () => {
    clearBanners(banners);
    box.disabled = true;
    try {
      const v = await api('/api/settings/email-verification', { method: 'PUT', body: { invitees_must_verify: box.checked } });
      box.checked = v.invitees_must_verify;
      explain(v);
      showBanner({ in: banners, kind: 'success', title: v.invitees_must_verify ? 'Invitees now verify their email' : 'Invitees no longer verify separately' });
    } catch (err) {
      box.checked = !box.checked;
      showBanner({ in: banners, kind: 'error', title: "The setting wasn't saved", detail: err?.problem?.detail });
    } finally {
      box.disabled = !admin;
    }
  });
  return card;
}
