// Verify email (/verify-email?token=…): confirms the address, signs the browser in, and goes on to
// where the signup was headed (an invitation, or creating a workspace).
import { post, isUnauthenticated } from '../api.js';
import { el, icon, setBusy, problemBanner, setTitle } from '../ui.js';
import { params, withNext, recall, goOn, statusCard } from '../auth.js';

export async function render() {
  setTitle('Verify your email');
  const token = params.get('token');
  if (!token) {
    statusCard({ kind: 'error', title: 'This link is incomplete', body: 'Open the verification link from your email again, or copy the whole address into your browser.', actions: [el('a', { class: 'btn btn-primary', href: '/login' }, 'Go to log in')] });
    return;
  }
  try {
    await post('/api/auth/verify-email', { token, session: 'cookie' });
  } catch (err) {
    statusCard({
      kind: 'error',
      title: "We couldn't verify your email",
      body: [
        el('p', { class: 'lede' }, err.status === 400 ? 'This link has expired or was already used. If you verified earlier, just log in.' : err.problem?.detail || 'Something went wrong.'),
      ],
      actions: [el('a', { class: 'btn btn-primary', href: '/login' }, 'Log in'), el('a', { class: 'btn btn-secondary', href: '/signup' }, 'Sign up again')],
    });
    return;
  }
  const next = recall();
  const go = el('button', { type: 'button', class: 'btn btn-primary btn-lg', dataset: { continue: '' } }, 'Continue', icon('arrowRight'));
  go.addEventListener('click', async () => {
    setBusy(go, true);
    try { await goOn(next); } catch (err) {
      setBusy(go, false);
      if (isUnauthenticated(err)) location.assign(withNext('/login', next));
      else problemBanner(err);
    }
  });
  statusCard({
    kind: 'success',
    title: 'Your email is verified',
    body: next && next.startsWith('/invite') ? 'Next, accept your invitation.' : "You're signed in. Next, set up your workspace.",
    actions: [go],
  });
}
