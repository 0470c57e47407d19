// Alerts (/app/alerts, flow 29): each threshold an automation crossed in a period, newest first.
import { get } from '../api.js';
import { el, mount, emptyState, formatDate, relativeTime, list } from '../ui.js';

export async function render(root, ctx) {
  ctx.setTitle('Alerts');
  const items = list(await get('/api/alerts', { query: { limit: 200 } }));
  const header = el('div', { class: 'page-header' }, el('div', {}, el('h1', {}, 'Alerts'),
    el('p', {}, 'When an automation reaches a share of its committed runs, or too many of its recent runs fail. Thresholds are in Settings.')));
  if (!items.length) {
    return mount(root, header, emptyState({ icon: 'bell', title: 'No alerts', body: 'Nothing has crossed a threshold. We notify your admins in the app and by email when something does.' }));
  }
  return mount(root, header,
    el('ul', { class: 'alert-list stack stack-sm', dataset: { alerts: '' } }, items.map((a) => el('li', { class: 'card card-body alert-item', dataset: { alert: a.kind } },
      el('div', { class: 'alert-head' },
        el('span', { class: ['badge', a.kind === 'volume' ? 'tone-info' : 'tone-danger'] }, a.kind === 'volume' ? 'Usage' : 'Failures'),
        el('a', { href: `/app/automations/${encodeURIComponent(a.automation_id)}#usage` }, a.title)),
      el('p', { class: 'muted' },
        a.kind === 'volume' ? `${a.observed} % of the committed runs used.` : `${a.observed} % of the latest runs failed.`,
        ' ',
        el('time', { datetime: a.created_at, title: formatDate(a.created_at, { time: true }) }, relativeTime(a.created_at)))))));
}
