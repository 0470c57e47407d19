// Ops console: /ops/automations is a board of every workspace's automations grouped by status;
// /ops/automations/{tenant_id}/{automation_id}?v=n is the ops detail view, where the ops-only
// moves are buttons (built from the version's allowed_transitions for the ops actor).
import { get } from '../api.js';
import {
  el, mount, emptyState, skeletonCard, statusBadge, statusTimeline, statusLabel, relativeTime, formatDate, STATUSES, showBanner, list,
} from '../ui.js';
import { actionBar, stateBanner } from './automation-actions.js';
import { quoteEditor } from './ops-quote.js';
import { threadPanel } from './thread.js';

export async function render(root, ctx) {
  const segs = ctx.path.replace(/^\/ops\/?/, '').split('/').filter(Boolean);
  if (segs.length >= 3) return renderDetail(root, ctx, segs[1], segs[2]);
  return renderBoard(root, ctx);
}

async function tenantNames() {
  try {
    return Object.fromEntries(list(await get('/api/ops/tenants', { query: { limit: 200 } })).map((t) => [t.id || t.tenant_id, t.name || t.subdomain]));
  } catch { return {}; }
}

async function renderBoard(root, ctx) {
  ctx.setTitle('Automations');
  const archived = el('input', { id: 'ops-archived', type: 'checkbox', checked: ctx.params.get('archived') === '1' });
  const board = el('div', { 'aria-live': 'polite' });
  mount(root,
    el('div', { class: 'page-header' },
      el('div', {}, el('h1', {}, 'Automations'), el('p', {}, 'Every workspace, grouped by status. Open a card to move it along.')),
      el('label', { class: 'check filter-check', for: 'ops-archived' }, archived, 'Show archived')),
    board);

  async function load() {
    mount(board, el('div', { class: 'board' }, [0, 1, 2].map(() => skeletonCard({ rows: 2 }))));
    let items, names;
    try {
      [items, names] = await Promise.all([
        get('/api/ops/automations', { query: { limit: 200, include_archived: archived.checked ? 'true' : '' } }).then(list),
        tenantNames(),
      ]);
    } catch (err) {
      mount(board, emptyState({ icon: 'alert', title: "We couldn't load the automations", body: err?.problem?.detail, action: { label: 'Try again', onClick: load } }));
      return;
    }
    const only = ctx.params.get('workspace');
    if (only) items = items.filter((a) => a.tenant_id === only);
    const scope = only ? el('p', { class: 'muted', dataset: { workspaceFilter: only } }, `Only ${names[only] || 'one workspace'}. `, el('a', { href: '/ops/automations' }, 'Show every workspace')) : null;
    if (!items.length && only) {
      mount(board, scope, emptyState({ icon: 'automations', title: `${names[only] || 'This workspace'} has no automations yet`, body: 'When it requests an automation it shows up here.', action: { label: 'Show every workspace', href: '/ops/automations' } }));
      return;
    }
    if (!items.length) {
      mount(board, emptyState({ icon: 'automations', title: 'No automations yet', body: 'When a workspace requests an automation it shows up here.', action: { label: 'Back to work queues', href: '/ops' } }));
      return;
    }
    const groups = STATUSES.map((s) => [s, items.filter((a) => a.status === s)]).filter(([, a]) => a.length);
    mount(board, scope, el('div', { class: 'board', dataset: { board: '' } }, groups.map(([s, a]) => el('section', { class: 'board-col', 'aria-labelledby': `col-${s}` },
      el('h2', { class: 'board-col-title', id: `col-${s}` }, statusBadge(s), el('span', { class: 'count-badge' }, String(a.length))),
      el('ul', { class: 'board-cards' }, a.map((x) => el('li', {},
        el('a', { class: 'card card-link board-card', href: `/ops/automations/${x.tenant_id}/${x.id}`, dataset: { automationId: x.id } },
          el('strong', {}, x.name),
          el('span', { class: 'cell-sub' }, names[x.tenant_id] || 'Workspace', ` · v${x.latest_version}`),
          el('time', { class: 'cell-sub', datetime: x.updated_at }, `Updated ${relativeTime(x.updated_at)}`)))))))));
  }
  archived.addEventListener('change', load);
  await load();
}

async function renderDetail(root, ctx, tid, id) {
  const n = ctx.params.get('v') || 'latest';
  const url = `/api/ops/tenants/${encodeURIComponent(tid)}/automations/${encodeURIComponent(id)}/versions/${encodeURIComponent(n)}`;
  mount(root, skeletonCard({ rows: 5, label: 'Loading automation…' }));
  let version, automation, names;
  try {
    [version, automation, names] = await Promise.all([
      get(url),
      get('/api/ops/automations', { query: { limit: 200, include_archived: 'true' } }).then((d) => list(d).find((a) => a.id === id)).catch(() => null),
      tenantNames(),
    ]);
  } catch (err) {
    mount(root, emptyState({ icon: 'compass', title: "We couldn't load this automation", body: err?.problem?.detail, action: { label: 'Back to the board', href: '/ops/automations' }, headingLevel: 1 }));
    return;
  }
  const name = automation?.name || 'Automation';
  ctx.setTitle(name, 'Automations');
  const banners = el('div', { class: 'banners', 'aria-live': 'polite' });
  const head = el('div', { 'aria-live': 'polite' });
  const badge = el('span', {});
  const vurl = url.replace(/\/versions\/[^/]+$/, `/versions/${version.number}`);

  function paint(v) {
    mount(badge, statusBadge(v.status));
    mount(head, el('div', { class: 'card card-body stack stack-sm' },
      statusTimeline(v.status, { from: v.blocked_from }),
      stateBanner(v),
      actionBar(v, {
        url: vurl,
        bannerIn: banners,
        onDone: async (nv) => { paint(nv); showBanner({ in: banners, kind: 'success', title: `Now ${statusLabel(nv.status)}` }); },
      })));
    mount(details, issuesAndBlueprint(v), quoteEditor(tid, id, v.number));
  }
  const details = el('div', { class: 'stack' });
  const thread = el('section', { class: 'card', 'aria-labelledby': 'thread-title' },
    el('div', { class: 'card-header' }, el('h2', { class: 'card-title', id: 'thread-title' }, 'Messages')),
    threadPanel({
      url: `/api/ops/tenants/${encodeURIComponent(tid)}/automations/${encodeURIComponent(id)}/messages`,
      automationId: id, tenantId: tid, side: 'ops', readOnly: automation?.status === 'archived',
    }));
  mount(root,
    el('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' }, el('a', { href: '/ops/automations' }, 'Automations'), el('span', { 'aria-hidden': 'true' }, ' / '), el('span', { 'aria-current': 'page' }, name)),
    el('header', { class: 'automation-header' },
      el('div', { class: 'automation-title' }, el('h1', {}, name), badge),
      el('p', { class: 'muted' }, `${names[tid] || 'Workspace'} · version ${version.number} · updated ${formatDate(version.updated_at, { time: true })}`)),
    banners, head, thread, details);
  paint(version);
}

function issuesAndBlueprint(v) {
  return [
    el('section', { class: 'card' },
      el('div', { class: 'card-header' }, el('h2', { class: 'card-title' }, 'Validation')),
      el('div', { class: 'card-body' }, (v.issues || []).length
        ? el('ul', { class: 'issue-list' }, v.issues.map((i) => el('li', { class: `issue issue-${i.severity}` },
          el('span', { class: `badge no-dot ${i.severity === 'error' ? 'tone-danger' : 'tone-warning'}` }, i.severity), ' ', i.message, i.path ? el('code', { class: 'issue-path' }, i.path) : null)))
        : el('p', { class: 'muted' }, 'No validation issues.'))),
    el('section', { class: 'card' },
      el('div', { class: 'card-header' }, el('h2', { class: 'card-title' }, 'Requirements')),
      el('div', { class: 'card-body' }, v.requirements ? el('p', { class: 'prewrap' }, v.requirements) : el('p', { class: 'muted' }, 'None written.'))),
    el('section', { class: 'card' },
      el('div', { class: 'card-header' }, el('h2', { class: 'card-title' }, 'Blueprint')),
      el('div', { class: 'card-body' }, el('pre', { class: 'code-block', tabindex: '0' }, JSON.stringify(v.blueprint || {}, null, 2)))),
  ];
}
