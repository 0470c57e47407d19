// The apex identity pages: signup, login, verify email, forgot/reset password, create workspace,
// workspace picker and invitation acceptance. One module; `<body data-page="…">` picks the page.
//
// Sessions: login and verify-email ask for `session: "cookie"`, so the apex gets its own HttpOnly
// session cookie plus the readable CSRF cookie that `api()` echoes. Going into a workspace is
// always POST /api/account/switch followed by a navigation to the returned handoff URL, so the
// workspace host sets its own host-only cookie.
import { api, get, post, isUnauthenticated } from './api.js';
import {
  $, $$, el, mount, icon, setBusy, applyProblemToForm, setFieldError, clearFieldError, clearFieldErrors,
  problemBanner, showBanner, clearBanners, announce, setTitle, initials,
} from './ui.js';

const params = new URLSearchParams(location.search);
const card = $('[data-card]');
const PENDING = 'wrk_after_verify';
export const MIN_PASSWORD = 12;

/* ---------------------------------------------------------------- helpers */

/** A same-origin path from `?next=` (never another host), or null. */
export function safeNext(raw = params.get('next')) {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\')) return null;
  return raw;
}

function withNext(path, next = safeNext()) {
  return next ? `${path}?next=${encodeURIComponent(next)}` : path;
}

function remember(next) {
  try { if (next) localStorage.setItem(PENDING, next); else localStorage.removeItem(PENDING); } catch { /* private mode */ }
}

function recall() {
  try {
    const v = localStorage.getItem(PENDING);
    localStorage.removeItem(PENDING);
    return safeNext(v);
  } catch { return null; }
}

/** Send a signed-in user on: `next`, else their last-used workspace, the picker, or create-workspace. */
export async function goOn(next = safeNext()) {
  if (next) return location.assign(next);
  const { url } = await post('/api/account/landing', {});
  location.assign(url);
}

/** Switch into a workspace: tokens + handoff code, then let the workspace host set its cookie. */
async function switchTo(subdomain) {
  const out = await post('/api/account/switch', { subdomain });
  location.assign(out.url);
}

async function currentAccount() {
  try {
    return await get('/api/account/me');
  } catch (err) {
    if (isUnauthenticated(err)) return null;
    throw err;
  }
}

function requireLogin() {
  location.replace(withNext('/login', location.pathname + location.search));
}

/** Replace the card with a status panel (success / error / info) and focus its heading. */
function statusCard({ kind = 'success', title, body = null, actions = [] }) {
  const glyph = kind === 'success' ? 'checkCircle' : kind === 'error' ? 'alert' : kind === 'mail' ? 'message' : 'info';
  const heading = el('h1', { tabindex: '-1' }, title);
  mount(card,
    el('div', { class: 'banners', 'data-banners': '', 'aria-live': 'polite' }),
    el('div', { class: `auth-status is-${kind}`, role: kind === 'error' ? 'alert' : 'status', dataset: { result: kind } },
      el('span', { class: 'auth-status-icon', 'aria-hidden': 'true' }, icon(glyph)),
      heading,
      ...(Array.isArray(body) ? body : [body]).filter(Boolean).map((b) => (b instanceof Node ? b : el('p', { class: 'lede' }, b))),
      actions.length ? el('div', { class: 'auth-actions' }, actions) : null,
    ),
  );
  heading.focus();
  announce(title);
  return card;
}

function busyButton(form) {
  return $('button[type="submit"]', form);
}

function value(form, name) {
  return (form.elements.namedItem(name)?.value || '').trim();
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Client-side checks before a request; returns true when the form may be sent. */
function check(form, rules) {
  clearFieldErrors(form);
  let first = null;
  for (const [name, test, message] of rules) {
    const input = form.elements.namedItem(name);
    if (!test(input.value.trim(), input.value)) {
      setFieldError(input, message);
      first = first || input;
    }
  }
  first?.focus();
  return !first;
}

/** The live "at least 12 characters" hint under a password field. */
function wirePasswordHint(input) {
  const hint = input.closest('.field')?.querySelector('[data-password-hint]');
  if (!hint) return;
  const update = () => {
    const n = [...input.value].length;
    hint.classList.toggle('is-ok', n >= MIN_PASSWORD);
    if (n === 0) hint.textContent = `At least ${MIN_PASSWORD} characters.`;
    else if (n < MIN_PASSWORD) hint.textContent = `${MIN_PASSWORD - n} more character${MIN_PASSWORD - n === 1 ? '' : 's'} to go.`;
    else hint.textContent = 'Long enough. A passphrase of a few words is easy to remember and hard to guess.';
    if (n >= MIN_PASSWORD) clearFieldError(input);
  };
  input.addEventListener('input', update);
  update();
}

function passwordRule(name) {
  return [name, (_, raw) => [...raw].length >= MIN_PASSWORD, `Use at least ${MIN_PASSWORD} characters.`];
}

/** SSO buttons: one "Continue with <provider>" per configured OpenID Connect provider. */
async function renderProviders(invite = null) {
  const slot = $('[data-sso]');
  if (!slot) return;
  let items = [];
  try {
    items = (await get('/api/auth/providers')).items || [];
  } catch { return; }
  if (!items.length) return;
  const label = (n) => n.charAt(0).toUpperCase() + n.slice(1);
  mount(slot,
    items.map((p) => el('a', {
      class: 'btn btn-secondary btn-block btn-lg sso-btn',
      href: ssoStart(p.start_url, invite),
      dataset: { provider: p.name },
    }, icon('lock'), `Continue with ${label(p.name)}`)),
    el('p', { class: 'divider-text' }, 'or with email'),
  );
  slot.hidden = false;
}

/** An SSO start link carrying the invitation, or else the page to go to once signed in. */
function ssoStart(startUrl, invite) {
  if (invite) return `${startUrl}?invite=${encodeURIComponent(invite)}`;
  const next = safeNext();
  return next ? `${startUrl}?next=${encodeURIComponent(next)}` : startUrl;
}

/** The invitation token inside `?next=/invite?token=…`, if that is where we are headed. */
function inviteFromNext() {
  const next = safeNext();
  if (!next || !next.startsWith('/invite')) return null;
  return new URL(next, location.origin).searchParams.get('token');
}

function keepNextOnLinks() {
  const next = safeNext();
  if (!next) return;
  for (const a of $$('a[data-keep-next]')) a.href = withNext(new URL(a.href).pathname, next);
}

async function logoutHere() {
  try { await post('/api/auth/logout', {}); } catch { /* leaving anyway */ }
}

function wireLogoutButtons() {
  for (const b of $$('[data-logout]')) {
    b.addEventListener('click', async () => {
      setBusy(b, true);
      await logoutHere();
      location.assign('/login?logged_out=1');
    });
  }
}

/* ---------------------------------------------------------------- signup */

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

async function signupPage() {
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

/* ---------------------------------------------------------------- login */

async function loginPage() {
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

/* ---------------------------------------------------------------- verify email */

async function verifyEmailPage() {
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

/* ---------------------------------------------------------------- forgot / reset password */

function forgotPasswordPage() {
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

function resetPasswordPage() {
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

/* ---------------------------------------------------------------- create workspace */

export const RESERVED = ['www', 'api', 'app', 'ops', 'admin', 'static', 'assets', 'auth', 'mail', 'status', 'docs', 'help'];

/** Why `slug` is not a valid workspace address, or null when it is. */
export function slugProblem(slug) {
  if (!slug) return 'Choose an address.';
  if (slug.length < 3) return 'Use at least 3 characters.';
  if (slug.length > 63) return 'Use at most 63 characters.';
  if (/[^a-z0-9-]/.test(slug)) return 'Use only lowercase letters, digits and hyphens.';
  if (slug.startsWith('-') || slug.endsWith('-')) return "Start and end with a letter or digit, not a hyphen.";
  if (RESERVED.includes(slug)) return `"${slug}" is reserved. Pick another address.`;
  return null;
}

/** A slug suggestion from a workspace name: "Acme Inc." → "acme-inc". */
export function suggestSlug(name) {
  return name.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
}

async function workspaceNewPage() {
  setTitle('Create a workspace');
  wireLogoutButtons();
  const form = $('[data-form="workspace"]');
  const name = form.elements.name;
  const slug = form.elements.subdomain;
  const preview = $('[data-slug-preview]');
  const base = location.host;
  $('[data-base-suffix]').textContent = `.${base}`;
  let edited = false;

  const refresh = (showError) => {
    const s = slug.value.trim();
    const problem = slugProblem(s);
    preview.replaceChildren();
    preview.classList.toggle('is-ok', !problem);
    if (!s) {
      preview.append('Your workspace will live at ', el('code', {}, `your-team.${base}`));
    } else if (problem) {
      preview.append(icon('alert'), problem);
    } else {
      preview.append(icon('check'), 'Your workspace will live at ', el('code', { dataset: { url: '' } }, `${s}.${base}`));
    }
    if (!problem) clearFieldError(slug);
    else if (showError && s) setFieldError(slug, problem);
    return problem;
  };
  name.addEventListener('input', () => {
    clearFieldError(name);
    if (!edited) { slug.value = suggestSlug(name.value); refresh(false); }
  });
  slug.addEventListener('input', () => {
    edited = slug.value.length > 0;
    const lowered = slug.value.toLowerCase();
    if (lowered !== slug.value) slug.value = lowered;
    refresh(false);
  });
  slug.addEventListener('blur', () => refresh(true));
  refresh(false);

  const me = await currentAccount().catch(() => null);
  if (!me) return requireLogin();

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearBanners();
    if (!check(form, [
      ['name', (v) => v.length > 0, 'Give your workspace a name.'],
      ['subdomain', (v) => !slugProblem(v), slugProblem(slug.value.trim()) || ''],
    ])) return;
    const btn = busyButton(form);
    setBusy(btn, true);
    try {
      const created = await post('/api/account/workspaces', { name: value(form, 'name'), subdomain: value(form, 'subdomain') });
      announce(`Workspace ${created.name} created. Opening it…`);
      await switchTo(created.subdomain);
    } catch (err) {
      setBusy(btn, false);
      if (err.status === 409) {
        setFieldError(slug, `${value(form, 'subdomain')}.${base} is taken. Try another address.`);
        slug.focus();
      } else if (err.status === 422 && !(err.problem?.errors || []).length) {
        setFieldError(slug, err.problem?.detail || 'This address is not allowed.');
        slug.focus();
      } else if (isUnauthenticated(err)) {
        requireLogin();
      } else {
        applyProblemToForm(form, err);
      }
    }
  });
}

/* ---------------------------------------------------------------- picker */

const ROLE_LABEL = { owner: 'Owner', admin: 'Admin', member: 'Member' };

async function workspacesPage() {
  setTitle('Your workspaces');
  wireLogoutButtons();
  const list = $('[data-workspaces]');
  const me = await currentAccount().catch((err) => { problemBanner(err); return undefined; });
  if (me === null) return requireLogin();
  if (!me) return;
  $('[data-signed-in-as]').replaceChildren('Signed in as ', el('strong', {}, me.email), '. Pick a workspace to open.');

  const target = params.get('switch');
  if (target) {
    try { return await switchTo(target); } catch (err) {
      if (err?.status === 403 || err?.status === 404) {
        showBanner({
          kind: 'warning',
          title: `You don't have access to ${target}.${location.host}`,
          detail: `${me.email} is not a member of that workspace. Ask one of its owners to invite you, or open one of your workspaces below.`,
          dismissible: false,
        });
      } else {
        problemBanner(err, { title: `We couldn't open ${target}` });
      }
    }
  }

  let items;
  try {
    items = (await get('/api/account/workspaces')).items || [];
  } catch (err) {
    mount(list);
    problemBanner(err, { title: "We couldn't load your workspaces" });
    return;
  }
  if (!items.length) {
    if (target) {
      mount(list, el('div', { class: 'auth-actions' }, el('a', { class: 'btn btn-primary', href: '/workspaces/new' }, 'Create a workspace')));
      return;
    }
    location.replace('/workspaces/new');
    return;
  }
  mount(list, el('ul', { class: 'ws-list', role: 'list' }, items.map((w) => {
    const btn = el('button', { type: 'button', class: 'ws-item', dataset: { subdomain: w.subdomain } },
      el('span', { class: 'workspace-avatar', 'aria-hidden': 'true' }, initials(w.name || w.subdomain)),
      el('span', { class: 'ws-text' },
        el('span', { class: 'ws-name' }, w.name),
        el('span', { class: 'ws-host' }, `${w.subdomain}.${location.host}`),
      ),
      el('span', { class: 'badge tone-neutral no-dot' }, ROLE_LABEL[w.role] || w.role),
      icon('arrowRight'),
    );
    btn.addEventListener('click', async () => {
      setBusy(btn, true);
      try { await switchTo(w.subdomain); } catch (err) {
        setBusy(btn, false);
        problemBanner(err, { title: `We couldn't open ${w.name}` });
      }
    });
    return el('li', {}, btn);
  })));
}

/* ---------------------------------------------------------------- invitation */

const INVITE_ERRORS = {
  invitation_expired: ['This invitation has expired', 'Invitations are valid for 7 days. Ask the person who invited you to send a new one.'],
  invitation_revoked: ['This invitation was withdrawn', 'An admin of the workspace revoked it. Ask them for a new invitation if you still need access.'],
  invitation_accepted: ['This invitation was already used', 'It has been accepted. Open your workspaces to continue.'],
  invalid_token: ['This invitation link is not valid', 'It may have been replaced by a newer invitation, or copied incompletely. Check your latest email.'],
  conflict: ["You're already a member", 'You already belong to this workspace. Open it from your workspaces.'],
};

async function invitePage() {
  setTitle('Join a workspace');
  const token = params.get('token');
  if (!token) {
    statusCard({ kind: 'error', title: 'This invitation link is incomplete', body: 'Open the link from your invitation email again.', actions: [el('a', { class: 'btn btn-primary', href: '/login' }, 'Log in')] });
    return;
  }
  const here = `/invite?token=${encodeURIComponent(token)}&continue=1`;
  const me = await currentAccount().catch(() => null);
  if (!me) {
    remember(here);
    statusCard({
      kind: 'info',
      title: "You've been invited to a workspace",
      body: [
        el('p', { class: 'lede' }, 'Create an account or log in to accept the invitation. You will land straight in the workspace.'),
      ],
      actions: [
        el('a', { class: 'btn btn-primary btn-lg', href: withNext('/signup', here), dataset: { signup: '' } }, 'Create an account'),
        el('a', { class: 'btn btn-secondary btn-lg', href: withNext('/login', here), dataset: { login: '' } }, 'Log in'),
      ],
    });
    return;
  }
  remember(null);
  const accept = async (btn) => {
    if (btn) setBusy(btn, true);
    try {
      const out = await post('/api/account/invitations/accept', { token });
      announce('Invitation accepted. Opening the workspace…');
      await switchTo(out.subdomain);
    } catch (err) {
      const [title, body] = INVITE_ERRORS[err.code] || ["We couldn't accept this invitation", err.problem?.detail || 'Try again in a moment.'];
      statusCard({
        kind: 'error',
        title,
        body,
        actions: [el('a', { class: 'btn btn-primary', href: '/workspaces' }, 'Your workspaces')],
      });
    }
  };
  if (params.get('continue')) {
    statusCard({ kind: 'info', title: 'Joining the workspace…', body: `Signed in as ${me.email}.` });
    await accept(null);
    return;
  }
  const btn = el('button', { type: 'button', class: 'btn btn-primary btn-lg', dataset: { accept: '' } }, 'Accept and join');
  btn.addEventListener('click', () => accept(btn));
  statusCard({
    kind: 'info',
    title: "You've been invited to a workspace",
    body: [el('p', { class: 'lede' }, 'You will join as ', el('strong', {}, me.name || me.email), ' (', me.email, ').')],
    actions: [
      btn,
      el('button', { type: 'button', class: 'btn btn-ghost', onclick: async () => { await logoutHere(); location.assign(withNext('/login', here)); } }, 'Use another account'),
    ],
  });
}

/* ---------------------------------------------------------------- boot */

const PAGES = {
  signup: signupPage,
  login: loginPage,
  'verify-email': verifyEmailPage,
  'forgot-password': forgotPasswordPage,
  'reset-password': resetPasswordPage,
  'workspace-new': workspaceNewPage,
  workspaces: workspacesPage,
  invite: invitePage,
};

const page = PAGES[document.body.dataset.page];
if (page) {
  Promise.resolve(page()).catch((err) => problemBanner(err)).finally(() => {
    document.body.dataset.ready = '1';
  });
}
