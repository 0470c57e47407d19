// Ops console: /ops/launch is the QA and deploy board (flows 23, 24, 24A, 24B): every version in
// QA, ready to launch, live or paused, across workspaces, each card with the moves ops may make
// from there (from the version's allowed_transitions: approve QA, go live, pause, resume).
import { get } from '../api.js';
import { el, mount, emptyState, skeletonCard, statusBadge, statusLabel, relativeTime, showBanner, list } from '../ui.js';
import { actionBar } from './automation-actions.js';

const COLUMNS = ['qa_testing', 'ready_to_launch', 'live', 'paused'];

export async function render(root, ctx) {
  ctx.setTitle('QA and deploys');
  const banners = el('div', { class: 'banners', 'aria-live': 'polite' });
  const board = el('div', { 'aria-live': 'polite' });
  mount(root,
    el('div', { class: 'page-header' },
      el('div', {}, el('h1', {}, 'QA and deploys'), el('p', {}, 'Approve what passed QA, deploy what is ready, pause or resume what runs.'))),
    banners, board);

  async function load() {
    mount(board, el('div', { class: 'board' }, COLUMNS.map(() => skeletonCard({ rows: 2 }))));
    let items, names;
    try {
      [items, names] = await Promise.all([
        get('/api/ops/automations', { query: { limit: 200 } }).then(list),
        get('/api/ops/tenants', { query: { limit: 200 } }).then((d) => Object.fromEntries(list(d).map((t) => [t.id || t.tenant_id, t.name || t.subdomain]))).catch(() => ({})),
      ]);
    } catch (err) {
      mount(board, emptyState({ icon: 'alert', title: "We couldn't load the board", body: err?.problem?.detail, action: { label: 'Try again', onClick: load } }));
      return;
    }
    items = items.filter((a) => COLUMNS.includes(a.status));
    if (!items.length) {
      mount(board, emptyState({ icon: 'rocket', title: 'Nothing in QA or launched yet', body: 'Versions show up here once a build reaches QA.', action: { label: 'All automations', href: '/ops/automations' } }));
      return;
    }
    const cards = await Promise.all(items.map(async (a) => {
      const url = `/api/ops/tenants/${encodeURIComponent(a.tenant_id)}/automations/${encodeURIComponent(a.id)}/versions/latest`;
      let version = null;
      try { version = await get(url); } catch { /* the card links to the detail instead */ }
      return [a, version, url];
    }));
    mount(board, el('div', { class: 'board', dataset: { launchBoard: '' } }, COLUMNS.map((s) => {
      const here = cards.filter(([a]) => a.status === s);
      return el('section', { class: 'board-col', 'aria-labelledby': `launch-${s}` },
        el('h2', { class: 'board-col-title', id: `launch-${s}` }, statusBadge(s), el('span', { class: 'count-badge' }, String(here.length))),
        here.length ? el('ul', { class: 'board-cards' }, here.map(([a, v, url]) => el('li', {},
          el('article', { class: 'card board-card', dataset: { launchCard: a.id } },
            el('a', { href: `/ops/automations/${encodeURIComponent(a.tenant_id)}/${encodeURIComponent(a.id)}` }, el('strong', {}, a.name)),
            el('span', { class: 'cell-sub' }, names[a.tenant_id] || 'Workspace', ` · v${v?.number ?? a.latest_version}`),
            el('time', { class: 'cell-sub', datetime: a.updated_at }, `Updated ${relativeTime(a.updated_at)}`),
            v ? actionBar(v, {
              url: url.replace(/\/versions\/latest$/, `/versions/${v.number}`),
              bannerIn: banners,
              onDone: async (nv) => { showBanner({ in: banners, kind: 'success', title: `${a.name} is now ${statusLabel(nv.status)}` }); await load(); },
            }) : null)))) : el('p', { class: 'muted' }, 'None.'));
    })));
  }
  await load();
}
