// Log in (/login): email and password or an SSO provider; says who is signed in already and
// offers to continue or switch account; offers to resend an unverified address's email.
import { post } from '../api.js';
import {
  $, el, setBusy, applyProblemToForm, setFieldError, clearFieldError, problemBanner, showBanner, clearBanners, announce,
  setTitle,
} from '../ui.js';
import {
  params, goOn, currentAccount, busyButton, value, EMAIL, check, renderProviders, inviteFromNext, keepNextOnLinks,
  logoutHere,
} from '../auth.js';

export async function render() {
  setTitle('Log in');
  keepNextOnLinks();
  const form = $('[data-form="login"]');
  if (params.get('logged_out')) {
    showBanner({ kind: 'success', title: "You're logged out", detail: 'See you soon.' });
  } else if (params.get('reset')) {
    showBanner({ kind: 'success', title: 'Password changed', detail: 'Log in with your new password.' });
  }
  renderProviders(inviteFromNext());
  if (params.get('logout')) {
    await logoutHere();
    showBanner({ kind: 'success', title: "You're logged out", detail: 'See you soon.' });
  } else {
    const me = await currentAccount().catch(() => null);
    if (me) {
      showBanner({
        kind: 'info',
        title: `You're signed in as ${me.name || me.email}`,
        detail: me.email,
        actions: [
          el('button', { type: 'button', class: 'btn btn-primary btn-sm', onclick: (e) => { setBusy(e.currentTarget, true); goOn().catch((err) => { setBusy(e.currentTarget, false); problemBanner(err); }); } }, 'Continue'),
          el('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: async () => { await logoutHere(); location.replace(location.pathname + location.search); } }, 'Use another account'),
        ],
        dismissible: true,
      });
    }
  }
  form.addEventListener('input', (e) => { if (e.target.matches('input')) clearFieldError(e.target); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearBanners();
    if (!check(form, [
      ['email', (v) => EMAIL.test(v), 'Enter the email you signed up with.'],
      ['password', (v, raw) => raw.length > 0, 'Enter your password.'],
    ])) return;
    const btn = busyButton(form);
    setBusy(btn, true);
    try {
      await post('/api/auth/login', { email: value(form, 'email'), password: form.elements.password.value, session: 'cookie' });
      announce('Logged in');
      await goOn();
    } catch (err) {
      setBusy(btn, false);
      if (err.status === 401) {
        setFieldError(form.elements.password, "That email and password don't match. Check them and try again.");
        form.elements.password.select();
        form.elements.password.focus();
      } else if (err.code === 'email_not_verified') {
        const address = value(form, 'email');
        const resend = el('button', { type: 'button', class: 'btn btn-secondary btn-sm', dataset: { resendVerification: '' } }, 'Resend verification email');
        resend.addEventListener('click', async () => {
          setBusy(resend, true);
          try {
            await post('/api/auth/verify-email/resend', { email: address });
            clearBanners();
            showBanner({ kind: 'success', title: 'Verification email sent', detail: `We sent a new link to ${address}. Open it, then log in here. Earlier links no longer work.` });
          } catch (e2) {
            setBusy(resend, false);
            problemBanner(e2, { title: "We couldn't send the email" });
          }
        });
        showBanner({ kind: 'warning', title: 'Verify your email first', detail: `We sent a link to ${address} when you signed up. Open it, then log in here.`, actions: [resend], dismissible: false });
      } else {
        applyProblemToForm(form, err);
      }
    }
  });
}
