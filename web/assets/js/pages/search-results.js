// The search page shared by the workspace (/app/search) and the ops console (/ops/search): the
// box, the empty, failed and no-match states, and the results in one card per group. Each host
// says what it searches (`spec`) and how its hits read.
import { get } from '../api.js';
import { el, mount, emptyState, skeletonCard, icon, announce } from '../ui.js';

/**
 * spec: { id, action, intro, formLabel, placeholder, hint, endpoint, noMatch: {label, href},
 *         groups: (answer) => [[title, key, [hit(…), …]], …] }
 */
export async function searchPage(root, ctx, spec) {
  const q = (ctx.params.get('q') || '').trim();
  ctx.setTitle(q ? `Search: ${q}` : 'Search');
  const input = el('input', { id: spec.id, name: 'q', type: 'search', value: q, autocomplete: 'off', placeholder: spec.placeholder });
  const results = el('div', { class: 'stack', 'aria-live': 'polite', dataset: { searchResults: '' } });
  const top = document.getElementById('search');
  if (top) top.value = q;
  mount(root,
    el('div', { class: 'page-header' }, el('div', {}, el('h1', {}, 'Search'), el('p', {}, spec.intro))),
    el('form', { class: 'filter-bar', role: 'search', action: spec.action, method: 'get', 'aria-label': spec.formLabel },
      el('div', { class: 'field grow' }, el('label', { for: spec.id }, 'Search for'), input),
      el('div', { class: 'field' }, el('button', { class: 'btn btn-primary', type: 'submit' }, icon('search'), 'Search'))),
    results);
  if (!q) {
    mount(results, emptyState({ icon: 'search', title: 'What are you looking for?', body: spec.hint }));
    input.focus();
    return;
  }
  mount(results, skeletonCard({ rows: 3, label: 'Searching…' }));
  let groups;
  try {
    groups = spec.groups(await get(spec.endpoint, { query: { q } }));
  } catch (err) {
    mount(results, emptyState({ icon: 'alert', title: "We couldn't search", body: err?.problem?.detail || 'Try again in a moment.', action: { label: 'Try again', onClick: () => searchPage(root, ctx, spec) } }));
    return;
  }
  const total = groups.reduce((n, [, , hits]) => n + hits.length, 0);
  announce(`${total} result${total === 1 ? '' : 's'} for ${q}`);
  if (!total) {
    mount(results, emptyState({ icon: 'search', title: `Nothing matches “${q}”`, body: 'Check the spelling, or try a shorter part of the name.', action: spec.noMatch }));
    input.select();
    return;
  }
  mount(results,
    el('p', { class: 'muted', role: 'status' }, `${total} result${total === 1 ? '' : 's'} for “${q}”`),
    groups.map(([title, key, hits]) => group(title, key, hits)),
  );
  results.querySelector('a')?.focus();
}

function group(title, key, items) {
  if (!items.length) return null;
  const id = `search-${key}`;
  return el('section', { class: 'card', 'aria-labelledby': id, dataset: { searchGroup: key } },
    el('div', { class: 'card-header' }, el('h2', { class: 'card-title', id }, title, ' ', el('span', { class: 'count-badge is-muted' }, String(items.length)))),
    el('ul', { class: 'overview-list' }, items));
}

/** One hit: a link, an optional badge and an optional line under it. */
export function hit(href, title, sub, badge) {
  return el('li', { dataset: { searchHit: '' } },
    el('a', { href }, title),
    badge,
    sub ? el('span', { class: 'cell-sub' }, sub) : null);
}
