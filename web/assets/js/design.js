// Design reference page: wires the interactive examples with the same helpers real pages use.
import { $, $$, wireDismissables, wireTabs, setBusy, setFieldError, clearFieldErrors, statusTimeline, statusBadge, el, mount } from './ui.js';

wireDismissables();
const tabs = $('[data-demo-tabs]');
if (tabs) wireTabs(tabs);

for (const b of $$('[data-demo-busy]')) {
  b.addEventListener('click', () => {
    setBusy(b, true);
    setTimeout(() => setBusy(b, false), 1500);
  });
}

const form = $('[data-demo-form]');
form?.addEventListener('submit', (e) => {
  e.preventDefault();
  clearFieldErrors(form);
  const name = form.elements.namedItem('name');
  if (!name.value.trim()) setFieldError(name, 'Give the workspace a name.');
});

const timelines = $('[data-demo-timelines]');
if (timelines) {
  mount(timelines, ['intake_in_progress', 'awaiting_client_approval', 'live', 'paused', 'blocked'].map((s) =>
    el('div', { class: 'stack stack-sm' },
      el('div', {}, statusBadge(s)),
      statusTimeline(s, { from: s === 'blocked' ? 'qa_testing' : null }),
    )));
}

// `?only=badges` (or several, comma-separated) shows just those sections — handy for screenshots.
const only = new URLSearchParams(location.search).get('only');
if (only) {
  const keep = new Set(only.split(','));
  for (const s of $$('.ds-section')) s.hidden = !keep.has(s.id);
}
