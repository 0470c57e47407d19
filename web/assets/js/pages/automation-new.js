// New automation (/app/automations/new): name (required, ≤ 200) + description, then its page.
import { post } from '../api.js';
import { el, mount, setBusy, applyProblemToForm, clearFieldErrors, setFieldError, announce } from '../ui.js';

export async function render(root, ctx) {
  ctx.setTitle('New automation');
  const name = el('input', { id: 'automation-name', name: 'name', type: 'text', required: true, maxlength: '200', autocomplete: 'off', 'aria-describedby': 'automation-name-help' });
  const counter = el('p', { class: 'help', id: 'automation-name-help' }, 'Up to 200 characters. You can rename it later.');
  const description = el('textarea', { id: 'automation-description', name: 'description', rows: '4', 'aria-describedby': 'automation-description-help' });
  const submit = el('button', { type: 'submit', class: 'btn btn-primary' }, 'Create automation');
  const banners = el('div', { class: 'banners', 'aria-live': 'polite' });
  const form = el('form', { class: 'card card-body', novalidate: true, dataset: { form: 'new-automation' } },
    banners,
    el('div', { class: 'field' }, el('label', { for: 'automation-name' }, 'Name'), name, counter),
    el('div', { class: 'field' },
      el('label', { for: 'automation-description' }, 'Description ', el('span', { class: 'subtle' }, '(optional)')),
      description,
      el('p', { class: 'help', id: 'automation-description-help' }, 'A sentence or two on what it should do. You add detailed requirements and documents next.')),
    el('div', { class: 'form-actions' }, submit, el('a', { class: 'btn btn-ghost', href: '/app/automations' }, 'Cancel')),
  );

  name.addEventListener('input', () => {
    const n = name.value.length;
    counter.textContent = n > 160 ? `${n} / 200 characters` : 'Up to 200 characters. You can rename it later.';
    if (name.getAttribute('aria-invalid') && name.value.trim()) clearFieldErrors(form);
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    banners.replaceChildren();
    const value = name.value.trim();
    if (!value) { setFieldError(name, 'Give the automation a name.'); name.focus(); return; }
    if (value.length > 200) { setFieldError(name, 'Keep the name to 200 characters or fewer.'); name.focus(); return; }
    setBusy(submit, true);
    try {
      const created = await post('/api/automations', { name: value, description: description.value.trim() || undefined });
      announce('Automation created');
      location.assign(`/app/automations/${created.id}`);
    } catch (err) {
      setBusy(submit, false);
      applyProblemToForm(form, err, { bannerIn: banners });
    }
  });

  mount(root,
    el('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' }, el('a', { href: '/app/automations' }, 'Automations'), el('span', { 'aria-hidden': 'true' }, ' / '), el('span', { 'aria-current': 'page' }, 'New')),
    el('div', { class: 'page-header' }, el('div', {},
      el('h1', {}, 'New automation'),
      el('p', {}, 'Name it now; requirements, documents and the blueprint come next. Nothing is priced until you ask for a quote.'))),
    el('div', { class: 'container-narrow automation-new' }, form),
  );
  name.focus();
}
