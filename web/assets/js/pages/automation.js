// Automation detail (/app/automations/{id}?v=n): header (name, status, version switcher), the
// status timeline, Paused/Blocked banner, the allowed moves, and tabs: Requirements (text,
// documents, ingestion proposal), Blueprint (structured + JSON editor), Quote, Runs & usage,
// Tasks, Messages (the thread with the WRK team, live), History.
import { get, post } from '../api.js';
import {
  $, $$, el, mount, statusBadge, statusTimeline, emptyState, skeleton, skeletonCard, setBusy, showBanner,
  problemBanner, announce, formatDate, relativeTime, statusLabel, wireTabs, icon, list,
} from '../ui.js';
import { actionBar, stateBanner } from './automation-actions.js';
import { blueprintEditor } from './blueprint-editor.js';
import { requirementsPanel } from './requirements.js';
import { quoteDocument, findQuote } from './quote.js';
import { tasksTable } from './tasks.js';
import { usagePanel } from './usage.js';
import { threadPanel } from './thread.js';

const TABS = [
  ['requirements', 'Requirements'], ['blueprint', 'Blueprint'], ['quote', 'Quote'], ['usage', 'Runs & usage'], ['tasks', 'Tasks'], ['messages', 'Messages'], ['history', 'History'],
];

export async function render(root, ctx) {
  const id = ctx.segments[1];
  const wanted = ctx.params.get('v') || 'latest';
  const base = `/api/automations/${encodeURIComponent(id)}`;
  mount(root, el('div', { class: 'stack', 'aria-busy': 'true' }, skeleton({ lines: 2 }), skeletonCard({ rows: 5, label: 'Loading automation…' })));

  let automation, versions, version;
  try {
    [automation, versions, version] = await Promise.all([
      get(base), get(`${base}/versions`).then(list), get(`${base}/versions/${encodeURIComponent(wanted)}`),
    ]);
  } catch (err) {
    ctx.setTitle('Automation');
    const notFound = err?.status === 404;
    mount(root, emptyState({
      icon: notFound ? 'compass' : 'alert',
      title: notFound ? (wanted !== 'latest' ? `Version ${wanted} doesn't exist` : "We couldn't find that automation") : "We couldn't load this automation",
      body: err?.problem?.detail || 'It may have been removed.',
      action: wanted !== 'latest' && notFound ? { label: 'Open the latest version', href: `/app/automations/${id}` } : { label: 'Back to automations', href: '/app/automations' },
      headingLevel: 1,
    }));
    return;
  }

  const page = { ctx, root, id, base, automation, versions, version, history: [] };
  ctx.setTitle(automation.name, 'Automations');
  await renderPage(page);
}

function vurl(page) { return `${page.base}/versions/${page.version.number}`; }

async function renderPage(page) {
  const { root, automation, versions, version } = page;
  const banners = el('div', { class: 'banners', 'aria-live': 'polite', dataset: { detailBanners: '' } });
  const switcher = el('select', { id: 'version-switch', class: 'select-sm' },
    versions.map((v) => el('option', { value: String(v.number), selected: v.number === version.number }, `v${v.number} · ${statusLabel(v.status)}`)));
  switcher.addEventListener('change', () => { location.assign(`/app/automations/${page.id}?v=${switcher.value}${location.hash}`); });

  page.banners = banners;
  page.head = el('div', { class: 'automation-status', 'aria-live': 'polite', dataset: { statusRegion: '' } });
  page.panels = {};
  const tablist = el('div', { class: 'tabs no-print', role: 'tablist', 'aria-label': 'Automation sections' },
    TABS.map(([key, label]) => el('button', { type: 'button', class: 'tab', role: 'tab', id: `tab-${key}`, 'aria-controls': `panel-${key}`, 'aria-selected': 'false', dataset: { tab: key } }, label)));
  const panels = TABS.map(([key]) => {
    const p = el('section', { class: 'tab-panel', role: 'tabpanel', id: `panel-${key}`, 'aria-labelledby': `tab-${key}`, tabindex: '0', hidden: true, dataset: { panel: key } });
    page.panels[key] = p;
    return p;
  });

  // The head (timeline, state banner, actions) is drawn with the rest, not after it: drawn later,
  // it pushed the tabs and the open panel down (a layout shift).
  await loadHistory(page);
  mount(root,
    el('nav', { class: 'breadcrumbs no-print', 'aria-label': 'Breadcrumb' }, el('a', { href: '/app/automations' }, 'Automations'), el('span', { 'aria-hidden': 'true' }, ' / '), el('span', { 'aria-current': 'page' }, automation.name)),
    el('header', { class: 'automation-header' },
      el('div', { class: 'automation-title' },
        el('h1', { dataset: { automationName: '' } }, automation.name),
        el('span', { dataset: { statusBadge: '' } }, statusBadge(version.status)),
      ),
      el('div', { class: 'cluster no-print' },
        el('div', { class: 'field field-inline' }, el('label', { for: 'version-switch' }, 'Version'), switcher),
        newVersionButton(page),
        auditTrailLink(page)),
    ),
    automation.description ? el('p', { class: 'muted automation-desc' }, automation.description) : null,
    banners,
    page.head,
    tablist,
    panels,
  );
  renderHead(page);

  const initial = (location.hash || '').replace('#', '');
  if (TABS.some(([k]) => k === initial)) $(`#tab-${initial}`, root).setAttribute('aria-selected', 'true');
  const loaded = new Set();
  const tabs = wireTabs(tablist, {
    onChange: (tab) => {
      const key = tab.dataset.tab;
      if (location.hash !== `#${key}`) history.replaceState(null, '', `${location.pathname}${location.search}#${key}`);
      if (!loaded.has(key)) { loaded.add(key); loadPanel(page, key); }
    },
  });
  window.addEventListener('hashchange', () => {
    const t = $(`#tab-${location.hash.replace('#', '')}`, root);
    if (t && t.getAttribute('aria-selected') !== 'true') tabs.select(t);
  });
  page.reloadPanel = (key) => { if (loaded.has(key)) loadPanel(page, key); };
}

/** The automation's whole audit trail (its versions', quotes' and tasks' rows too): admins only,
 * as the audit log is. */
function auditTrailLink(page) {
  if (!['owner', 'admin'].includes(page.ctx.me?.role)) return null;
  return el('a', { class: 'btn btn-ghost btn-sm', href: `/app/audit-log?automation_id=${encodeURIComponent(page.id)}`, dataset: { auditTrail: '' } }, icon('audit'), 'Audit trail');
}

/** Flow 12: a new version (copy of the blueprint) once the newest one is live or paused. */
function newVersionButton(page) {
  const newest = Math.max(...page.versions.map((v) => v.number));
  const latest = page.versions.find((v) => v.number === newest);
  if (!latest || !['live', 'paused'].includes(latest.status)) return null;
  const btn = el('button', { type: 'button', class: 'btn btn-secondary btn-sm', dataset: { newVersion: '' } }, icon('plus'), 'New version');
  btn.addEventListener('click', async () => {
    setBusy(btn, true);
    try {
      const v = await post(`${page.base}/versions`, {});
      location.assign(`/app/automations/${page.id}?v=${v.number}#requirements`);
    } catch (err) {
      setBusy(btn, false);
      problemBanner(err, { title: "The new version wasn't created", in: page.banners });
    }
  });
  return btn;
}

async function loadHistory(page) {
  try { page.history = list(await get(`${vurl(page)}/history`)); } catch { page.history = []; }
}

/** Timeline + state banner + action bar: re-rendered after every move. */
function renderHead(page) {
  const v = page.version;
  const editable = v.status === 'intake_in_progress';
  mount(page.head,
    el('div', { class: 'card card-body stack stack-sm' },
      statusTimeline(v.status, { from: v.blocked_from }),
      stateBanner(v, page.history),
      actionBar(v, {
        url: vurl(page),
        bannerIn: page.banners,
        onDone: async (nv) => {
          page.version = nv;
          const b = $('[data-status-badge]', page.root);
          if (b) mount(b, statusBadge(nv.status));
          const opt = $(`#version-switch option[value="${nv.number}"]`, page.root);
          if (opt) opt.textContent = `v${nv.number} · ${statusLabel(nv.status)}`;
          await loadHistory(page);
          renderHead(page);
          for (const k of ['requirements', 'blueprint', 'quote', 'tasks', 'history']) page.reloadPanel(k);
          showBanner({ in: page.banners, kind: 'success', title: `Now ${statusLabel(nv.status)}`, detail: nextHint(nv) });
        },
      }),
      editable ? null : el('p', { class: 'help' }, v.status === 'archived' ? 'This version is archived and read-only.' : 'Requirements and blueprint are locked while the version moves on. To change them, create a new version once it is live.'),
    ));
}

function nextHint(v) {
  if (v.status === 'awaiting_client_approval') return 'Your quote is ready in the Quote tab.';
  if (v.status === 'needs_pricing') return 'We are pricing it; you will get the quote shortly.';
  return null;
}

async function loadPanel(page, key) {
  const panel = page.panels[key];
  mount(panel, skeletonCard({ rows: 3 }));
  try {
    if (key === 'requirements') return mount(panel, requirementsPanel(page));
    if (key === 'blueprint') return mount(panel, blueprintEditor({
      version: page.version,
      url: `${vurl(page)}/blueprint`,
      readOnly: page.version.status !== 'intake_in_progress',
      onSaved: (res) => {
        page.version = { ...page.version, blueprint: res.blueprint, revision: res.revision, issues: res.issues };
      },
      reloadVersion: async () => {
        page.version = await get(vurl(page));
        renderHead(page);
        return page.version;
      },
    }));
    if (key === 'quote') {
      const quote = await findQuote(page.id, page.version.number);
      if (!quote) {
        return mount(panel, emptyState({
          icon: 'quote', title: 'No quote yet', compact: true,
          body: page.version.status === 'intake_in_progress'
            ? 'Finish the requirements and blueprint, then submit for pricing: the quote appears here.'
            : page.version.status === 'needs_pricing' ? 'The quote is being prepared. We will email your admins when it is ready.' : 'There is no quote for this version.',
        }));
      }
      return mount(panel, quoteDocument(quote, page.automation));
    }
    if (key === 'usage') return mount(panel, await usagePanel(page.id));
    if (key === 'tasks') {
      const tasks = list(await get('/api/tasks', { query: { automation_id: page.id, limit: 200 } }));
      if (!tasks.length) return mount(panel, emptyState({ icon: 'tasks', title: 'No tasks for this automation', body: 'When we need something from you — a credential, an answer — it shows up here.', compact: true }));
      return mount(panel, tasksTable(tasks, { showAutomation: false, onChanged: () => page.reloadPanel('tasks') }));
    }
    if (key === 'messages') {
      return mount(panel, threadPanel({
        url: `${page.base}/messages`, automationId: page.id, side: 'workspace',
        readOnly: page.automation.status === 'archived', onRead: () => page.ctx.refreshUnread(),
      }));
    }
    if (key === 'history') return mount(panel, historyList(page.history.length ? page.history : list(await get(`${vurl(page)}/history`))));
  } catch (err) {
    mount(panel, emptyState({ icon: 'alert', title: "We couldn't load this section", body: err?.problem?.detail || 'Try again in a moment.', action: { label: 'Try again', onClick: () => loadPanel(page, key) }, compact: true }));
  }
  return null;
}

function historyList(items) {
  if (!items.length) return emptyState({ icon: 'clock', title: 'No history yet', compact: true });
  return el('ol', { class: 'history-list', dataset: { history: '' } },
    [...items].reverse().map((h) => el('li', { class: 'history-item' },
      el('div', { class: 'history-move' },
        h.from ? statusBadge(h.from) : el('span', { class: 'muted' }, 'Created'),
        h.from ? [el('span', { class: 'history-arrow', 'aria-hidden': 'true' }, '→'), el('span', { class: 'sr-only' }, ' to ')] : null,
        statusBadge(h.to)),
      el('div', { class: 'history-meta' },
        el('span', {}, actorLabel(h.actor)),
        el('time', { datetime: h.at, title: formatDate(h.at, { time: true }) }, relativeTime(h.at))),
      h.reason ? el('p', { class: 'history-reason' }, `“${h.reason}”`) : null)));
}

function actorLabel(a) {
  if (!a) return '';
  return a.kind === 'client' ? 'You or your team' : a.kind === 'ops' ? 'WRK team' : 'System';
}

