// Ops console: /ops/platform is the delivery log of the events sent to the WRK Platform (deploy,
// pause, resume): each event's workspace, automation, attempts, last answer and next try, with
// a retry button. Without a platform URL configured the events are kept and say so.
import { get, post } from '../api.js';
import { el, mount, emptyState, skeletonCard, formatDate, relativeTime, showBanner, clearBanners, setBusy, list, banner } from '../ui.js';

const TYPES = {
  'automation.deployed': 'Deployed',
  'automation.paused': 'Paused',
  'automation.resumed': 'Resumed',
};

const TONES = { delivered: 'tone-success', pending: 'tone-warning', failed: 'tone-danger', not_sent: 'tone-neutral' };

export async function render(root, ctx) {
  ctx.setTitle('Platform events');
  const slot = el('div', { 'aria-live': 'polite' }, skeletonCard({ rows: 4, label: 'Loading the delivery log…' }));
  const refresh = el('button', { type: 'button', class: 'btn btn-secondary' }, 'Refresh');
  mount(root,
    el('div', { class: 'page-header' },
      el('div', {}, el('h1', {}, 'Platform events'), el('p', {}, 'What the WRK Platform was told about deploys, pauses and resumes, and whether it heard.')),
      el('div', { class: 'cluster' }, refresh)),
    slot);

  async function load() {
    let answer;
    try {
      answer = await get('/api/ops/platform-events', { query: { limit: 200 } });
    } catch (err) {
      mount(slot, emptyState({ icon: 'alert', title: "We couldn't load the delivery log", body: err?.problem?.detail, action: { label: 'Try again', onClick: load } }));
      return;
    }
    const items = list(answer);
    const note = answer.platform_configured ? null : banner({ kind: 'info', title: 'No platform is configured', detail: 'Set WRK_PLATFORM_URL (and WRK_PLATFORM_SECRET) to send these events; until then they are recorded, not sent.', dismissible: false });
    if (!items.length) {
      mount(slot, note, emptyState({ icon: 'rocket', title: 'No platform events yet', body: 'Deploying, pausing or resuming an automation sends one.' }));
      return;
    }
    mount(slot, note, el('section', { class: 'card', 'aria-labelledby': 'deliveries-title' },
      el('div', { class: 'card-header' }, el('h2', { id: 'deliveries-title' }, 'Delivery log'), el('span', { class: 'count-badge is-muted' }, String(items.length))),
      el('div', { class: 'table-wrap flush' },
        el('table', { class: 'table', dataset: { deliveries: '' } },
          el('caption', { class: 'sr-only' }, 'Events sent to the WRK Platform'),
          el('thead', {}, el('tr', {},
            el('th', { scope: 'col' }, 'Event'),
            el('th', { scope: 'col' }, 'Status'),
            el('th', { scope: 'col' }, 'Attempts'),
            el('th', { scope: 'col', class: 'hide-sm' }, 'Last answer'),
            el('th', { scope: 'col', class: 'hide-sm' }, 'Next try'),
            el('th', { scope: 'col' }, el('span', { class: 'sr-only' }, 'Actions')))),
          el('tbody', {}, items.map((d) => row(d, load)))))));
  }
  refresh.addEventListener('click', load);
  await load();
}

function row(d, reload) {
  const retry = d.retryable
    ? el('button', { type: 'button', class: 'btn btn-secondary btn-sm', dataset: { retry: d.id } }, 'Retry now')
    : null;
  retry?.addEventListener('click', async () => {
    clearBanners();
    setBusy(retry, true);
    try {
      await post(`/api/ops/platform-events/${encodeURIComponent(d.id)}/retry`, {});
      showBanner({ kind: 'success', title: 'Sending again', detail: `${TYPES[d.type] || 'The event'} for ${d.workspace || 'the workspace'} is queued now.` });
      await reload();
    } catch (err) {
      setBusy(retry, false);
      showBanner({ kind: 'error', title: "We couldn't retry it", detail: err?.problem?.detail });
    }
  });
  const last = d.last_status ? `HTTP ${d.last_status}` : d.last_error || '—';
  return el('tr', { dataset: { delivery: d.id, status: d.status } },
    el('td', {}, el('div', { class: 'stack-xs' },
      el('strong', {}, `${TYPES[d.type] || d.type} · v${d.version}`),
      el('a', { class: 'cell-sub', href: `/ops/automations/${encodeURIComponent(d.tenant_id)}/${encodeURIComponent(d.automation_id)}` }, d.workspace || 'Workspace'),
      el('time', { class: 'cell-sub', datetime: d.occurred_at }, formatDate(d.occurred_at, { time: true })))),
    el('td', {}, el('span', { class: `badge no-dot ${TONES[d.status] || 'tone-neutral'}`, dataset: { statusLabel: '' } }, d.status_label)),
    el('td', {}, String(d.attempts)),
    el('td', { class: 'hide-sm' }, last),
    el('td', { class: 'hide-sm' }, d.next_try_at ? el('time', { datetime: d.next_try_at }, relativeTime(d.next_try_at)) : '—'),
    el('td', { class: 'actions' }, retry));
}
