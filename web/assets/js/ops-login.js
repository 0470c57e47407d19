// The ops console's login (ops.{base}/ops/login): an ops cookie session, then on to the console.
import { post, get, maybeSignedIn } from './api.js';
import { $, $$, setBusy, setFieldError, clearFieldError, clearFieldErrors, applyProblemToForm, clearBanners, announce, setTitle } from './ui.js';
import { apexUrl } from './hosts.js';

function safeNext(raw) {
  return raw && raw.startsWith('/ops') && !raw.startsWith('//') ? raw : '/ops';
}

const next = safeNext(new URLSearchParams(location.search).get('next'));
const form = $('[data-form="ops-login"]');
setTitle('Log in', 'Ops');
for (const a of $$('[data-apex-href]')) a.href = apexUrl(a.dataset.apexHref);

// Already signed in: straight to the console.
if (maybeSignedIn()) get('/api/ops/me').then(() => location.replace(next), () => {});

form.addEventListener('input', (e) => { if (e.target.matches('input')) clearFieldError(e.target); });
form.addEventListener('submit', async (e) => {
  e.preventDefault();
  clearBanners();
  clearFieldErrors(form);
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;
  if (!email) { setFieldError(form.elements.email, 'Enter your ops email.'); form.elements.email.focus(); return; }
  if (!password) { setFieldError(form.elements.password, 'Enter your password.'); form.elements.password.focus(); return; }
  const btn = $('button[type="submit"]', form);
  setBusy(btn, true);
  try {
    await post('/api/ops/auth/login', { email, password, session: 'cookie' });
    announce('Logged in');
    location.assign(next);
  } catch (err) {
    setBusy(btn, false);
    if (err.status === 401) {
      setFieldError(form.elements.password, "That email and password don't match an ops account.");
      form.elements.password.focus();
    } else {
      applyProblemToForm(form, err);
    }
  }
});
document.body.dataset.ready = '1';
