// Tasks (/app/tasks): every task of the workspace, filterable by status. Client tasks get status
// controls (todo → in progress → done, and back to todo); ops tasks are shown read-only.
import { get, patch } from '../api.js';
import { el, mount, emptyState, skeletonCard, setBusy, showBanner, announce, relativeTime, formatDate, list } from '../ui.js';
const TASK_STATUSES = [['todo', 'To do'], ['in_progress', 'In progress'], ['done', 'Done']];
const TONE = { todo: 'tone-neutral', in_progress: 'tone-info', done: 'tone-success' };
const label = (s) => (TASK_STATUSES.find(([k]) => k === s) || [s, s])[1];

export function taskBadge(status) {
  return el('span', { class: `badge no-dot ${TONE[status] || 'tone-neutral'}`, dataset: { taskStatus: status } }, label(status));
}

/** A table of tasks; `names` maps automation_id → name when the automation column is shown. */
export function tasksTable(tasks, { showAutomation = true, names = {}, onChanged = null } = {}) {
  const banners = el('div', { class: 'banners', 'aria-live': 'polite' });
  return el('div', { class: 'stack stack-sm' }, banners, el('div', { class: 'table-wrap' },
    el('table', { class: 'table table-responsive', dataset: { tasks: '' } },
      el('caption', { class: 'sr-only' }, 'Tasks'),
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, 'Task'),
        showAutomation ? el('th', { scope: 'col' }, 'Automation') : null,
        el('th', { scope: 'col' }, 'Who'),
        el('th', { scope: 'col' }, 'Status'),
        el('th', { scope: 'col' }, 'Created'))),
      el('tbody', {}, tasks.map((t) => el('tr', { dataset: { taskId: t.id } },
        el('td', { 'data-label': 'Task' }, t.title),
        showAutomation ? el('td', { 'data-label': 'Automation' }, el('a', { href: `/app/automations/${t.automation_id}${t.version ? `?v=${t.version}` : ''}#tasks` }, names[t.automation_id] || 'Open automation')) : null,
        el('td', { 'data-label': 'Who' }, t.assignee === 'client' ? 'You' : 'WRK team'),
        el('td', { 'data-label': 'Status' }, t.assignee === 'client' ? statusControl(t, banners, onChanged) : taskBadge(t.status)),
        el('td', { 'data-label': 'Created' }, el('time', { datetime: t.created_at, title: formatDate(t.created_at, { time: true }) }, relativeTime(t.created_at)))))))));
}

function statusControl(t, banners, onChanged) {
  const id = `task-status-${t.id}`;
  const select = el('select', { id, class: 'select-sm', 'aria-label': `Status of “${t.title}”`, dataset: { taskSelect: '' } },
    TASK_STATUSES.map(([k, l]) => el('option', { value: k, selected: k === t.status }, l)));
  select.addEventListener('change', async () => {
    const before = t.status;
    setBusy(select, true);
    try {
      const updated = await patch(`/api/tasks/${t.id}`, { status: select.value });
      t.status = updated?.status || select.value;
      announce(`Task “${t.title}” is now ${label(t.status)}`);
      onChanged?.();
    } catch (err) {
      select.value = before;
      showBanner({ in: banners, kind: 'error', title: "The task wasn't updated", detail: err?.problem?.detail || err.message });
    } finally { setBusy(select, false); }
  });
  return select;
}

export async function render(root, ctx) {
  ctx.setTitle('Tasks');
  const status = el('select', { id: 'task-filter', name: 'status' },
    el('option', { value: '' }, 'All'), TASK_STATUSES.map(([k, l]) => el('option', { value: k, selected: ctx.params.get('status') === k }, l)));
  const results = el('div', { 'aria-live': 'polite' });
  mount(root,
    el('div', { class: 'page-header' }, el('div', {},
      el('h1', {}, 'Tasks'),
      el('p', {}, 'What we need from you, and what the WRK team is doing for you.'))),
    el('form', { class: 'filter-bar', onsubmit: (e) => e.preventDefault() },
      el('div', { class: 'field' }, el('label', { for: 'task-filter' }, 'Status'), status)),
    results);

  let names = {};
  async function load() {
    mount(results, skeletonCard({ rows: 4, label: 'Loading tasks…' }));
    history.replaceState(null, '', `/app/tasks${status.value ? `?status=${status.value}` : ''}`);
    try {
      const [tasks, automations] = await Promise.all([
        get('/api/tasks', { query: { status: status.value, limit: 200 } }).then(list),
        Object.keys(names).length ? Promise.resolve(null) : get('/api/automations', { query: { limit: 200, include_archived: 'true' } }).then(list).catch(() => []),
      ]);
      if (automations) names = Object.fromEntries(automations.map((a) => [a.id, a.name]));
      if (!tasks.length) {
        mount(results, emptyState({ icon: 'tasks', title: status.value ? `No ${label(status.value).toLowerCase()} tasks` : 'No tasks', body: 'Tasks are things we need from you — a credential, an answer, a signature. They show up here when an automation needs them.', action: { label: 'View automations', href: '/app/automations' } }));
        return;
      }
      mount(results, tasksTable(tasks, { names }));
    } catch (err) {
      mount(results, emptyState({ icon: 'alert', title: "We couldn't load the tasks", body: err?.problem?.detail, action: { label: 'Try again', onClick: load } }));
    }
  }
  status.addEventListener('change', load);
  await load();
}
