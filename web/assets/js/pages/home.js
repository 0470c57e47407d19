// Overview (/app): what is happening in the workspace — the newest automations with their status,
// and the tasks waiting on the client. The "no automations yet" empty state only when there are
// none.
import { get } from '../api.js';
import { el, mount, statusBadge, emptyState, relativeTime, formatDate, icon, list } from '../ui.js';

export async function render(root, ctx) {
  ctx.setTitle('Overview');
  const first = ctx.me?.user?.name ? ctx.me.user.name.split(' ')[0] : null;
  let automations;
  let tasks;
  try {
    [automations, tasks] = await Promise.all([
      get('/api/automations', { query: { limit: 5 } }).then(list),
      get('/api/tasks', { query: { limit: 50 } }).then(list).catch(() => []),
    ]);
  } catch (err) {
    mount(root, header(ctx, first), emptyState({
      icon: 'alert', title: "We couldn't load your overview", body: err?.problem?.detail || 'Try again in a moment.',
      action: { label: 'Try again', onClick: () => render(root, ctx) },
    }));
    return;
  }
  if (!automations.length) {
    mount(root, header(ctx, first), emptyState({
      icon: 'automations',
      title: 'No automations yet',
      body: 'Automations are the work WRK Copilot builds and runs for you. Describe what you need and we will price it, build it and keep it running.',
      action: { label: 'Request an automation', href: '/app/automations/new', icon: 'plus' },
      secondary: { label: 'Invite your team', href: '/app/team' },
    }));
    return;
  }
  const mine = tasks.filter((t) => t.assignee === 'client' && t.status !== 'done');
  const names = Object.fromEntries(automations.map((a) => [a.id, a.name]));
  mount(root,
    header(ctx, first, true),
    el('div', { class: 'stack' },
    el('section', { class: 'card', dataset: { overviewAutomations: '' }, 'aria-labelledby': 'ov-automations' },
      el('div', { class: 'card-header' },
        el('h2', { class: 'card-title', id: 'ov-automations' }, 'Recent automations'),
        el('a', { class: 'btn btn-ghost btn-sm', href: '/app/automations' }, 'View all', icon('arrowRight'))),
      el('ul', { class: 'overview-list' }, automations.map((a) => el('li', { dataset: { automationId: a.id } },
        el('a', { href: `/app/automations/${a.id}` }, a.name),
        statusBadge(a.status),
        el('time', { class: 'cell-sub', datetime: a.updated_at, title: formatDate(a.updated_at, { time: true }) }, `Updated ${relativeTime(a.updated_at)}`))))),
    el('section', { class: 'card', dataset: { overviewTasks: '' }, 'aria-labelledby': 'ov-tasks' },
      el('div', { class: 'card-header' },
        el('h2', { class: 'card-title', id: 'ov-tasks' }, 'Waiting on you'),
        el('a', { class: 'btn btn-ghost btn-sm', href: '/app/tasks' }, 'All tasks', icon('arrowRight'))),
      mine.length
        ? el('ul', { class: 'overview-list' }, mine.slice(0, 5).map((t) => el('li', {},
          el('a', { href: `/app/automations/${t.automation_id}` }, t.title),
          names[t.automation_id] ? el('span', { class: 'cell-sub' }, names[t.automation_id]) : null)))
        : el('div', { class: 'card-body' }, el('p', { class: 'muted inline-icon is-ok' }, icon('checkCircle', { size: 18 }), 'Nothing needs you right now.')))),
  );
}

function header(ctx, first, withAction = false) {
  return el('div', { class: 'page-header' },
    el('div', {},
      el('h1', {}, first ? `Welcome, ${first}` : 'Overview'),
      el('p', {}, `Everything happening in ${ctx.me?.tenant?.name || 'this workspace'}.`)),
    withAction ? el('div', { class: 'cluster' }, el('a', { class: 'btn btn-primary', href: '/app/automations/new' }, icon('plus'), 'New automation')) : null);
}
