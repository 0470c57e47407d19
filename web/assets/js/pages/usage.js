// The "Runs & usage" tab of an automation (flow 28): an SVG chart of the month's runs per day
// (bars) and their running total (line) against the committed volume and the workspace's alert
// thresholds (horizontal lines), with the same numbers in a table beside it.
import { get } from '../api.js';
import { el, emptyState } from '../ui.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) n.setAttribute(k, String(v));
  for (const c of children.flat()) if (c) n.append(c);
  return n;
}

const fmt = (n) => Number(n || 0).toLocaleString();

function monthName(period) {
  const [y, m] = period.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString(undefined, { month: 'long', year: 'numeric', timeZone: 'UTC' });
}

function chart(data) {
  const W = 640, H = 260, L = 48, R = 12, T = 12, B = 28;
  const days = data.items;
  let cumulative = 0;
  const totals = days.map((d) => { cumulative += d.runs; return cumulative; });
  const committed = data.total.committed || 0;
  const top = Math.max(1, cumulative, committed * Math.max(1, ...data.thresholds_percent.map((t) => t / 100)) * 1.05);
  const x = (i) => L + (i + 0.5) * ((W - L - R) / days.length);
  const y = (v) => T + (H - T - B) * (1 - v / top);
  const bw = Math.max(2, ((W - L - R) / days.length) * 0.6);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = Math.round(top * f);
    return svg('g', { class: 'chart-grid' },
      svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v) }),
      svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, fmt(v)));
  });
  const bars = days.map((d, i) => (d.runs ? svg('rect', {
    class: 'chart-bar', x: x(i) - bw / 2, y: y(d.runs), width: bw, height: Math.max(0, y(0) - y(d.runs)),
  }, svg('title', {}, `${d.day}: ${fmt(d.runs)} runs`)) : null));
  // The running total stops at today in the current month (the days after it have not happened).
  const today = days.findIndex((d) => d.day === new Date().toISOString().slice(0, 10));
  const shown = today >= 0 ? totals.slice(0, today + 1) : totals;
  const line = svg('polyline', { class: 'chart-total', points: shown.map((v, i) => `${x(i)},${y(v)}`).join(' ') });
  const lines = [];
  if (committed) {
    lines.push(svg('g', { class: 'chart-committed', 'data-committed': '' },
      svg('line', { x1: L, x2: W - R, y1: y(committed), y2: y(committed) }),
      svg('text', { x: W - R, y: y(committed) - 4, 'text-anchor': 'end' }, `Committed ${fmt(committed)}`)));
    for (const t of data.thresholds_percent.filter((p) => p !== 100)) {
      const v = (committed * t) / 100;
      lines.push(svg('g', { class: 'chart-threshold' },
        svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v) }),
        svg('text', { x: L + 4, y: y(v) - 4 }, `${t} %`)));
    }
  }
  const ticks = days.map((d, i) => ((i % 5 === 0 || i === days.length - 1)
    ? svg('text', { class: 'chart-tick', x: x(i), y: H - 8, 'text-anchor': 'middle' }, String(Number(d.day.slice(8)))) : null));
  const label = `Runs per day in ${monthName(data.period)}: ${fmt(data.total.runs)} in total${committed ? ` of ${fmt(committed)} committed` : ''}.`;
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, class: 'usage-svg' },
    grid, bars, line, lines, ticks);
  root.dataset.usageChart = '';
  return root;
}

function legend(committed) {
  return el('ul', { class: 'chart-legend', 'aria-hidden': 'true' },
    el('li', {}, el('span', { class: 'swatch swatch-bar' }), 'Runs that day'),
    el('li', {}, el('span', { class: 'swatch swatch-total' }), 'Running total'),
    committed ? el('li', {}, el('span', { class: 'swatch swatch-committed' }), 'Committed volume') : null,
    committed ? el('li', {}, el('span', { class: 'swatch swatch-threshold' }), 'Alert thresholds') : null);
}

function table(data) {
  const t = data.total;
  const busy = data.items.filter((d) => d.runs);
  return el('div', { class: 'stack stack-sm' },
    el('dl', { class: 'usage-totals', dataset: { usageTotals: '' } },
      el('div', {}, el('dt', {}, 'Runs'), el('dd', { dataset: { usageRuns: '' } }, fmt(t.runs))),
      el('div', {}, el('dt', {}, 'Succeeded'), el('dd', {}, fmt(t.succeeded))),
      el('div', {}, el('dt', {}, 'Failed'), el('dd', {}, fmt(t.failed))),
      el('div', {}, el('dt', {}, 'Committed'), el('dd', {}, t.committed === null ? 'No commitment' : fmt(t.committed))),
      el('div', {}, el('dt', {}, 'Used'), el('dd', { dataset: { usagePercent: '' } }, t.percent === null ? '—' : `${t.percent} %`))),
    busy.length ? el('div', { class: 'table-wrap' },
      el('table', { class: 'table', dataset: { usageTable: '' } },
        el('caption', { class: 'sr-only' }, `Runs per day in ${monthName(data.period)}`),
        el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Day'), el('th', { scope: 'col', class: 'num' }, 'Runs'),
          el('th', { scope: 'col', class: 'num' }, 'Succeeded'), el('th', { scope: 'col', class: 'num' }, 'Failed'))),
        el('tbody', {}, busy.map((d) => el('tr', {},
          el('th', { scope: 'row' }, new Date(`${d.day}T00:00:00Z`).toLocaleDateString(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' })),
          el('td', { class: 'num' }, fmt(d.runs)), el('td', { class: 'num' }, fmt(d.succeeded)), el('td', { class: 'num' }, fmt(d.failed))))))) : null);
}

/** The panel for automation `id`. */
export async function usagePanel(id) {
  const data = await get('/api/usage/days', { query: { automation_id: id } });
  const heading = el('h2', { class: 'card-title' }, `Runs in ${monthName(data.period)}`);
  if (!data.total.runs && !data.total.committed) {
    return emptyState({ icon: 'clock', title: 'No runs yet this month', body: 'Once the automation is live, every run the platform reports is counted here, day by day, against the volume in your quote.', compact: true });
  }
  return el('section', { class: 'card', dataset: { usagePanel: '' } },
    el('div', { class: 'card-header' }, heading),
    el('div', { class: 'card-body usage-grid' },
      el('figure', { class: 'usage-chart' }, chart(data), legend(data.total.committed)),
      table(data)));
}
