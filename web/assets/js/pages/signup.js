// Sign up (/signup): name, email and password; from an invitation link the invited address is
// filled in and fixed, and no verification email is needed.
import { post } from '../api.js';
import { $, el, setBusy, applyProblemToForm, setFieldError, clearBanners, setTitle } from '../ui.js';
import {
  safeNext, withNext, remember, goOn, statusCard, busyButton, value, EMAIL, check, wirePasswordHint, passwordRule,
  renderProviders, inviteFromNext, keepNextOnLinks,
} from '../auth.js';

/** From an invitation link: the invited address, prefilled and fixed (the link proves it). */
async function prefillInvitedEmail(form, invite) {
  if (!invite) return null;
  let preview;
  try {
    preview = await post('/api/auth/invitations/preview', { token: invite });
  } catch {
    return null; /* the invitation page explains a dead link; signing up still works */
  }
  const input = form.elements.email;
  input.value = preview.email;
  input.readOnly = true;
  input.setAttribute('aria-readonly', 'true');
  const help = el('p', { class: 'help', id: 'email-invited-help', dataset: { invitedEmail: '' } },
    `Your invitation to ${preview.workspace_name} was sent to this address, so you won't need to verify it.`);
  input.closest('.field')?.append(help);
  input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), help.id].filter(Boolean).join(' '));
  const note = $('[data-signup-note]');
  if (note) note.textContent = 'By creating an account you agree to keep your credentials safe. You will land straight in the workspace.';
  return preview;
}

export async function render() {
  setTitle('Create your account');
  keepNextOnLinks();
  const invite = inviteFromNext();
  renderProviders(invite);
  const form = $('[data-form="signup"]');
  wirePasswordHint(form.elements.password);
  const invited = await prefillInvitedEmail(form, invite);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearBanners();
    if (!check(form, [
      ['name', (v) => v.length > 0, 'Tell us your name.'],
      ['email', (v) => EMAIL.test(v), 'Enter an email address like name@company.com.'],
      passwordRule('password'),
    ])) return;
    const body = { name: value(form, 'name'), email: value(form, 'email'), password: form.elements.password.value };
    if (invited) body.invitation_token = invite;
    const btn = busyButton(form);
    setBusy(btn, true);
    try {
      const out = await post('/api/auth/signup', body);
      if (out.email_verification_required) {
        remember(safeNext());
        statusCard({
          kind: 'mail',
          title: 'Check your email',
          body: [
            el('p', { class: 'lede' }, 'We sent a verification link to ', el('strong', { dataset: { email: '' } }, body.email), '. Open it to finish creating your account.'),
            el('p', { class: 'help' }, "The link is valid for 24 hours. Nothing there? Check your spam folder, or sign up again with the right address."),
          ],
          actions: [el('a', { class: 'btn btn-secondary', href: withNext('/login') }, 'Back to log in')],
        });
        return;
      }
      await post('/api/auth/login', { email: body.email, password: body.password, session: 'cookie' });
      await goOn();
    } catch (err) {
      setBusy(btn, false);
      if (err.status === 409) {
        setFieldError(form.elements.email, 'An account with this email already exists. Log in instead, or reset your password.');
        form.elements.email.focus();
      } else {
        applyProblemToForm(form, err);
      }
    }
  });
}
