// Shared by the apex identity pages (js/pages/signup.js, login.js, verify-email.js,
// forgot-password.js, reset-password.js, workspace-new.js, workspaces.js, invite.js): where to go
// next, the session probe, the status card, client-side form checks and the SSO buttons.
// `auth-pages.js` boots the page named by `<body data-page="…">`.
//
// Sessions: login and verify-email ask for `session: "cookie"`, so the apex gets its own HttpOnly
// session cookie plus the readable CSRF cookie that `api()` echoes. Going into a workspace is
// always POST /api/account/switch followed by a navigation to the returned handoff URL, so the
// workspace host sets its own host-only cookie.
import { get, post, isUnauthenticated, maybeSignedIn } from './api.js';
import {
  $, $$, el, mount, icon, setBusy, setFieldError, clearFieldError, clearFieldErrors, announce,
} from './ui.js';

export const params = new URLSearchParams(location.search);
const PENDING = 'wrk_after_verify';
export const MIN_PASSWORD = 12;

/** A same-origin path from `?next=` (never another host), or null. */
export function safeNext(raw = params.get('next')) {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\')) return null;
  return raw;
}

export function withNext(path, next = safeNext()) {
  return next ? `${path}?next=${encodeURIComponent(next)}` : path;
}

export function remember(next) {
  try { if (next) localStorage.setItem(PENDING, next); else localStorage.removeItem(PENDING); } catch { /* private mode */ }
}

export function recall() {
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
export async function switchTo(subdomain) {
  const out = await post('/api/account/switch', { subdomain });
  location.assign(out.url);
}

/** The signed-in account, or null (without asking when this browser has no apex session). */
export async function currentAccount() {
  if (!maybeSignedIn()) return null;
  try {
    return await get('/api/account/me');
  } catch (err) {
    if (isUnauthenticated(err)) return null;
    throw err;
  }
}

/** Sends the browser to the login page, which comes back here once signed in. */
export function requireLogin() {
  location.replace(withNext('/login', location.pathname + location.search));
}

/** Replace the card with a status panel (success / error / info) and focus its heading. */
export function statusCard({ kind = 'success', title, body = null, actions = [] }) {
  const card = $('[data-card]');
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

export function busyButton(form) {
  return $('button[type="submit"]', form);
}

export function value(form, name) {
  return (form.elements.namedItem(name)?.value || '').trim();
}

export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Client-side checks before a request; returns true when the form may be sent. */
export function check(form, rules) {
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
export function wirePasswordHint(input) {
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

export function passwordRule(name) {
  return [name, (_, raw) => [...raw].length >= MIN_PASSWORD, `Use at least ${MIN_PASSWORD} characters.`];
}

/** SSO buttons: one "Continue with <provider>" per configured OpenID Connect provider. */
export async function renderProviders(invite = null) {
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
export function inviteFromNext() {
  const next = safeNext();
  if (!next || !next.startsWith('/invite')) return null;
  return new URL(next, location.origin).searchParams.get('token');
}

export function keepNextOnLinks() {
  const next = safeNext();
  if (!next) return;
  for (const a of $$('a[data-keep-next]')) a.href = withNext(new URL(a.href).pathname, next);
}

export async function logoutHere() {
  try { await post('/api/auth/logout', {}); } catch { /* leaving anyway */ }
}

export function wireLogoutButtons() {
  for (const b of $$('[data-logout]')) {
    b.addEventListener('click', async () => {
      setBusy(b, true);
      await logoutHere();
      location.assign('/login?logged_out=1');
    });
  }
}
