// Reset password (/reset-password?token=…): a new password from the emailed link.
import { post } from '../api.js';
import { $, el, setBusy, applyProblemToForm, setFieldError, clearBanners, setTitle } from '../ui.js';
import { params, statusCard, busyButton, check, wirePasswordHint, passwordRule } from '../auth.js';

export function render() {
  setTitle('Choose a new password');
  const token = params.get('token');
  const form = $('[data-form="reset"]');
  if (!token) {
    statusCard({ kind: 'error', title: 'This link is incomplete', body: 'Request a new reset link and open it from your email.', actions: [el('a', { class: 'btn btn-primary', href: '/forgot-password' }, 'Request a new link')] });
    return;
  }
  wirePasswordHint(form.elements.new_password);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearBanners();
    if (!check(form, [passwordRule('new_password')])) return;
    const btn = busyButton(form);
    setBusy(btn, true);
    try {
      await post('/api/auth/password-reset/confirm', { token, new_password: form.elements.new_password.value });
      statusCard({ kind: 'success', title: 'Your password is changed', body: 'Every other session was signed out. Log in with your new password.', actions: [el('a', { class: 'btn btn-primary', href: '/login' }, 'Log in')] });
    } catch (err) {
      setBusy(btn, false);
      if (err.status === 400) {
        statusCard({ kind: 'error', title: 'This reset link has expired', body: 'Links work once, for one hour. Request a new one and use it right away.', actions: [el('a', { class: 'btn btn-primary', href: '/forgot-password' }, 'Request a new link')] });
      } else if (err.status === 422) {
        setFieldError(form.elements.new_password, err.problem?.errors?.[0]?.message || err.problem?.detail || 'Choose a longer password.');
        form.elements.new_password.focus();
      } else {
        applyProblemToForm(form, err);
      }
    }
  });
}
