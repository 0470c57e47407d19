// Forgot password (/forgot-password): asks for a reset link; the answer never says whether the
// address has an account.
import { post } from '../api.js';
import { $, el, setBusy, problemBanner, clearBanners, setTitle } from '../ui.js';
import { params, statusCard, busyButton, value, EMAIL, check } from '../auth.js';

export function render() {
  setTitle('Reset your password');
  const form = $('[data-form="forgot"]');
  const email = params.get('email');
  if (email) form.elements.email.value = email;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearBanners();
    if (!check(form, [['email', (v) => EMAIL.test(v), 'Enter an email address like name@company.com.']])) return;
    const btn = busyButton(form);
    setBusy(btn, true);
    const address = value(form, 'email');
    try {
      await post('/api/auth/password-reset/request', { email: address });
    } catch (err) {
      setBusy(btn, false);
      if (err.status === 429 || err.status === 0 || err.status >= 500) { problemBanner(err); return; }
    }
    statusCard({
      kind: 'mail',
      title: 'Check your email',
      body: [
        el('p', { class: 'lede' }, 'If an account exists for ', el('strong', {}, address), ", we sent a link to reset its password. It's valid for one hour."),
        el('p', { class: 'help' }, 'Signed up with single sign-on? Your password is managed by your identity provider.'),
      ],
      actions: [el('a', { class: 'btn btn-secondary', href: '/login' }, 'Back to log in')],
    });
  });
}
