// Settings (/app/settings): the workspace's display name (owners and admins rename it; its
// address never changes) and its address; and whether people joining by invitation verify their
// email address with a separate link (flow 1B, per workspace); the alert thresholds (flow 29);
// and, for owners and admins, the secret the WRK Platform signs run events with (flow 27).
import { api } from '../api.js';
import {
  $$, el, mount, bindText, initials, setBusy, applyProblemToForm, clearFieldErrors, setFieldError, showBanner, clearBanners,
} from '../ui.js';
import { canAdmin, confirmDialog, copyText } from './common.js';

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
    el('div', { class: 'stack' }, form, verificationCard(admin, banners), alertsCard(admin, banners),
      admin ? webhookCard(banners) : null));
}

/** Flow 29: the thresholds that raise an alert. */
function alertsCard(admin, banners) {
  const input = (id, label, help, attrs) => {
    const i = el('input', { id, type: 'number', inputmode: 'numeric', required: true, readonly: !admin, 'aria-describedby': `${id}-help`, ...attrs });
    return [i, el('div', { class: 'field' }, el('label', { for: id }, label), i, el('p', { class: 'help', id: `${id}-help` }, help))];
  };
  const [volume, volumeField] = input('alert-volume', 'Usage thresholds (% of committed runs)', 'Up to five, separated by commas, from 1 to 1000. One alert per threshold, automation and month.', { type: 'text', inputmode: 'numeric', name: 'volume_thresholds_percent' });
  const [rate, rateField] = input('alert-rate', 'Failure rate (%)', 'Alert when more than this share of the latest runs failed (1 to 100).', { name: 'failure_rate_percent', min: '1', max: '100' });
  const [window_, windowField] = input('alert-window', 'Over the latest runs', 'How many finished runs the failure rate is measured over (1 to 1000).', { name: 'failure_window_runs', min: '1', max: '1000' });
  const save = el('button', { class: 'btn btn-primary', type: 'submit' }, 'Save thresholds');
  const form = el('form', { class: 'card', dataset: { form: 'alert-settings' }, novalidate: true },
    el('div', { class: 'card-header' }, el('h2', { class: 'card-title' }, 'Alerts')),
    el('div', { class: 'card-body stack' }, volumeField, rateField, windowField,
      admin ? null : el('p', { class: 'help' }, 'Only an owner or admin can change the thresholds.')),
    admin ? el('div', { class: 'card-footer form-actions' }, save) : null);
  const fill = (v) => {
    volume.value = v.volume_thresholds_percent.join(', ');
    rate.value = String(v.failure_rate_percent);
    window_.value = String(v.failure_window_runs);
  };
  api('/api/settings/alerts').then(fill).catch(() => { showBanner({ in: banners, kind: 'error', title: "We couldn't load the alert thresholds" }); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearBanners(banners);
    clearFieldErrors(form);
    const list = volume.value.split(',').map((t) => t.trim()).filter(Boolean).map(Number);
    if (list.some((n) => !Number.isInteger(n))) { setFieldError(volume, 'Whole percentages, separated by commas.'); volume.focus(); return; }
    setBusy(save, true);
    try {
      const v = await api('/api/settings/alerts', { method: 'PUT', body: { volume_thresholds_percent: list, failure_rate_percent: Number(rate.value), failure_window_runs: Number(window_.value) } });
      fill(v);
      showBanner({ in: banners, kind: 'success', title: 'Alert thresholds saved' });
    } catch (err) {
      applyProblemToForm(form, err, { bannerIn: banners });
    } finally {
      setBusy(save, false);
    }
  });
  return form;
}

/** Flow 27: the secret the WRK Platform signs this workspace's run events with. */
function webhookCard(banners) {
  const field = el('input', { id: 'webhook-secret', type: 'text', readonly: true, class: 'input-mono', 'aria-describedby': 'webhook-secret-help', value: '' });
  const copy = el('button', { type: 'button', class: 'btn btn-secondary btn-sm' }, 'Copy');
  const rotate = el('button', { type: 'button', class: 'btn btn-secondary btn-sm', dataset: { rotateSecret: '' } }, 'Rotate secret');
  const card = el('section', { class: 'card', dataset: { webhookSecret: '' } },
    el('div', { class: 'card-header' }, el('h2', { class: 'card-title' }, 'Platform webhook')),
    el('div', { class: 'card-body stack' },
      el('div', { class: 'field' }, el('label', { for: 'webhook-secret' }, 'Signing secret'), field,
        el('p', { class: 'help', id: 'webhook-secret-help' }, `The WRK Platform signs the run events it sends to ${location.origin}/webhooks/platform with this secret. After a rotation the old secret still works for 24 hours.`)),
      el('div', { class: 'cluster' }, copy, rotate)));
  api('/api/webhook-secret').then((v) => { field.value = v.secret; }).catch(() => { field.value = ''; field.placeholder = "We couldn't load the secret"; });
  copy.addEventListener('click', async () => {
    const ok = await copyText(field.value, field);
    showBanner({ in: banners, kind: ok ? 'success' : 'error', title: ok ? 'Secret copied' : "We couldn't copy it; select it and copy by hand" });
  });
  rotate.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Rotate the webhook secret?',
      body: 'A new secret is made now. Events signed with the current one are still accepted for 24 hours, so the platform can switch over.',
      confirmLabel: 'Rotate',
      action: async () => { const v = await api('/api/webhook-secret/rotate', { method: 'POST', body: {} }); field.value = v.secret; },
    });
    if (ok) showBanner({ in: banners, kind: 'success', title: 'Webhook secret rotated', detail: 'Give the new secret to the platform within 24 hours.' });
  });
  return card;
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
