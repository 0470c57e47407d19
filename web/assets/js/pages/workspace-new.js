// Create a workspace (/workspaces/new): a name and the address it will live at, checked live.
import { get, post, isUnauthenticated } from '../api.js';
import { $, el, icon, setBusy, applyProblemToForm, setFieldError, clearFieldError, clearBanners, announce, setTitle } from '../ui.js';
import { currentAccount, requireLogin, switchTo, busyButton, value, check, wireLogoutButtons } from '../auth.js';

/**
 * The server's rules for an address (GET /api/auth/slug-rules: length and reserved names), for a
 * hint while typing; the server checks again on create. Null until they arrive or if they don't.
 */
let rules = null;

async function loadRules() {
  try { rules = await get('/api/auth/slug-rules'); } catch { rules = null; }
}

/** Why `slug` is not a valid workspace address, or null when it is (as far as the hint knows). */
export function slugProblem(slug) {
  if (!slug) return 'Choose an address.';
  if (rules && slug.length < rules.min_length) return `Use at least ${rules.min_length} characters.`;
  if (rules && slug.length > rules.max_length) return `Use at most ${rules.max_length} characters.`;
  if (/[^a-z0-9-]/.test(slug)) return 'Use only lowercase letters, digits and hyphens.';
  if (slug.startsWith('-') || slug.endsWith('-')) return "Start and end with a letter or digit, not a hyphen.";
  if (rules?.reserved.includes(slug)) return `"${slug}" is reserved. Pick another address.`;
  return null;
}

/** A slug suggestion from a workspace name: "Acme Inc." → "acme-inc". */
export function suggestSlug(name) {
  return name.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, rules?.max_length).replace(/-+$/, '');
}

export async function render() {
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

  const [me] = await Promise.all([currentAccount().catch(() => null), loadRules()]);
  if (!me) return requireLogin();
  if (rules) $('[data-slug-help]').textContent = `${rules.min_length}–${rules.max_length} characters: lowercase letters, digits and hyphens; no hyphen at either end.`;
  refresh(false);

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
