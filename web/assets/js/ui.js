// WRK Copilot — DOM helpers shared by every page. No framework; small and explicit.
//
//   import { el, banner, showBanner, setFieldError, skeleton, emptyState, statusBadge } from '/assets/js/ui.js';
//
// Everything builds real DOM nodes (never innerHTML with data), so API strings are always safe.
import { icon } from './icons.js';
export { icon } from './icons.js';

/* ---------------------------------------------------------------- el() builder */

/**
 * el('button', { class: 'btn btn-primary', type: 'button', onclick: fn }, 'Save')
 * attrs: `class` (string or array), `dataset` {k: v}, `text`, `html` is NOT supported on purpose,
 * `on<event>` functions become listeners, booleans toggle attributes, null/undefined/false skip.
 * children: strings, numbers, nodes, arrays (flattened), null/false (skipped).
 */
export function el(tag, attrs = {}, ...children) {
  const node = tag === 'svg' || tag === 'path'
    ? document.createElementNS('http://www.w3.org/2000/svg', tag)
    : document.createElement(tag);
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = {};
  }
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class' || key === 'className') {
      node.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (key === 'dataset') {
      for (const [k, v] of Object.entries(value)) if (v !== undefined && v !== null) node.dataset[k] = v;
    } else if (key === 'text') {
      node.textContent = value;
    } else if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'value' && 'value' in node) {
      node.value = value;
    } else if (key === 'checked' || key === 'selected') {
      node[key] = Boolean(value);
    } else if (key === 'style') {
      throw new Error('el(): inline styles are blocked by the CSP; use a class');
    } else {
      node.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === true) continue;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/** The items of a list answer: `{items: […]}`, or a bare array. */
export const list = (data) => (Array.isArray(data) ? data : data?.items || []);

/** Replace all children of `node` with `children`. */
export function mount(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** Fill every `[data-bind="key"]` under root with the text of values[key]. */
export function bindText(root, values) {
  for (const node of $$('[data-bind]', root)) {
    const key = node.dataset.bind;
    if (key in values && values[key] !== undefined && values[key] !== null) node.textContent = values[key];
  }
}

let idSeq = 0;
export function uid(prefix = 'wrk') {
  idSeq += 1;
  return `${prefix}-${idSeq}`;
}

/* ---------------------------------------------------------------- live region */

let liveRegion;
/** Announce a message to screen readers (polite). */
export function announce(message, { assertive = false } = {}) {
  if (!liveRegion) {
    liveRegion = el('div', { class: 'sr-only', 'aria-live': assertive ? 'assertive' : 'polite', role: 'status' });
    document.body.appendChild(liveRegion);
  }
  liveRegion.textContent = '';
  setTimeout(() => { liveRegion.textContent = message; }, 30);
}

/* ---------------------------------------------------------------- banners */

const BANNER_GLYPH = { info: 'i', success: '✓', warning: '!', error: '!' };

/**
 * A banner element. kind: info | success | warning | error.
 * banner({kind:'error', title:'Could not save', detail:'…', actions:[el('a',…)], dismissible:true})
 */
export function banner({ kind = 'info', title = null, detail = null, actions = null, dismissible = true, onDismiss = null } = {}) {
  const role = kind === 'error' || kind === 'warning' ? 'alert' : 'status';
  const node = el('div', { class: `banner banner-${kind}`, role },
    el('span', { class: 'banner-icon', 'aria-hidden': 'true' }, BANNER_GLYPH[kind] || 'i'),
    el('div', { class: 'banner-body' },
      title ? el('strong', { class: 'banner-title' }, title) : null,
      detail ? el('p', {}, detail) : null,
      actions ? el('div', { class: 'banner-actions' }, actions) : null,
    ),
  );
  if (dismissible) {
    node.appendChild(el('button', {
      type: 'button',
      class: 'banner-close',
      'aria-label': 'Dismiss',
      onclick: () => { node.remove(); if (onDismiss) onDismiss(); },
    }, icon('close')));
  }
  return node;
}

/** The page's banner region: `[data-banners]` or `.banners`, created at the top of main if missing. */
export function bannerRegion(root = document) {
  let region = $('[data-banners]', root) || $('.banners', root);
  if (!region) {
    region = el('div', { class: 'banners', 'data-banners': '', 'aria-live': 'polite' });
    const main = $('main', root) || document.body;
    main.prepend(region);
  }
  return region;
}

/** Show a banner in the page's banner region (or `opts.in`). Returns the node. */
export function showBanner(opts) {
  const region = opts.in || bannerRegion();
  const node = banner(opts);
  region.appendChild(node);
  return node;
}

export function clearBanners(region = bannerRegion()) {
  region.replaceChildren();
}

/** An error banner from an ApiError / Error: title from the problem, text from its `detail`. */
export function problemBanner(err, { title = null, in: region = undefined } = {}) {
  const p = (err && err.problem) || {};
  const detail = p.detail || (err && err.message) || 'Something went wrong.';
  const extra = p.request_id ? ` (request ${p.request_id})` : '';
  return showBanner({ kind: 'error', title: title || p.title || 'Something went wrong', detail: detail + extra, in: region });
}

/** Make any `.banner-close` inside static markup work (design page, server-rendered shells). */
export function wireDismissables(root = document) {
  for (const btn of $$('.banner-close', root)) {
    if (btn.dataset.wired) continue;
    btn.dataset.wired = '1';
    btn.addEventListener('click', () => btn.closest('.banner')?.remove());
  }
}

/* ---------------------------------------------------------------- field errors */

function fieldWrap(input) {
  return input.closest('.field') || input.parentElement;
}

/** Mark `input` invalid with `message` shown in a `.field-error` right after it (aria-describedby). */
export function setFieldError(input, message) {
  if (!input) return;
  const wrap = fieldWrap(input);
  let err = wrap.querySelector(':scope > .field-error');
  if (!err) {
    err = el('p', { class: 'field-error', id: uid('err') });
    const help = wrap.querySelector(':scope > .help');
    // error goes directly under the control (before help text)
    const anchor = input.closest('.input-affix') || input;
    if (anchor.parentElement === wrap) anchor.after(err);
    else if (help) help.before(err);
    else wrap.appendChild(err);
  }
  err.textContent = message;
  input.setAttribute('aria-invalid', 'true');
  const ids = new Set((input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean));
  ids.add(err.id);
  input.setAttribute('aria-describedby', [...ids].join(' '));
}

export function clearFieldError(input) {
  if (!input) return;
  input.removeAttribute('aria-invalid');
  const wrap = fieldWrap(input);
  const err = wrap && wrap.querySelector(':scope > .field-error');
  if (err) {
    const ids = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter((id) => id && id !== err.id);
    if (ids.length) input.setAttribute('aria-describedby', ids.join(' '));
    else input.removeAttribute('aria-describedby');
    err.remove();
  }
}

export function clearFieldErrors(form) {
  for (const input of $$('[aria-invalid="true"]', form)) clearFieldError(input);
  for (const e of $$('.field-error', form)) e.remove();
}

/**
 * Put a problem's per-field errors next to their fields. Accepts `problem.errors` as
 * `[{field|pointer|name, message|detail}]` or `{field: message}`, and `problem.field`.
 * Returns true if at least one field got an error; otherwise shows a banner and returns false.
 * Focuses the first invalid field.
 */
export function applyProblemToForm(form, err, { bannerIn = undefined } = {}) {
  clearFieldErrors(form);
  const p = (err && err.problem) || {};
  const pairs = [];
  const reported = p.errors || p.fields || p.invalid_params || p.issues;
  if (Array.isArray(reported)) {
    for (const e of reported) {
      const name = e.field || e.name || (e.pointer || e.path || '').toString().replace(/^\/+/, '').split('/').pop();
      if (name) pairs.push([name, e.message || e.detail || e.reason || p.detail]);
    }
  } else if (reported && typeof reported === 'object') {
    for (const [k, v] of Object.entries(reported)) pairs.push([k, Array.isArray(v) ? v.join(' ') : String(v)]);
  }
  if (p.field) pairs.push([p.field, p.detail]);
  let first = null;
  for (const [name, message] of pairs) {
    const input = form.elements.namedItem(name) || form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (input && input.nodeType === 1) {
      setFieldError(input, message || 'Check this field.');
      first = first || input;
    }
  }
  if (first) { first.focus(); return true; }
  problemBanner(err, { in: bannerIn });
  return false;
}

/* ---------------------------------------------------------------- busy / loading */

/** Put a button in its loading state (spinner, disabled, aria-busy) or take it out. */
export function setBusy(button, busy = true) {
  if (!button) return;
  button.classList.toggle('is-loading', busy);
  button.disabled = busy;
  if (busy) button.setAttribute('aria-busy', 'true');
  else button.removeAttribute('aria-busy');
}

/** Run `fn` with `button` busy; always restores it. */
export async function withBusy(button, fn) {
  setBusy(button, true);
  try { return await fn(); } finally { setBusy(button, false); }
}

/* ---------------------------------------------------------------- skeletons */

/** A block of skeleton lines: skeleton({lines: 3}) / skeleton({block: true}). aria-busy region. */
export function skeleton({ lines = 3, block = false, label = 'Loading…' } = {}) {
  const widths = ['w-80', '', 'w-60', 'w-40', 'w-80', 'w-25'];
  return el('div', { class: 'skeleton-group', 'aria-busy': 'true', role: 'status' },
    el('span', { class: 'sr-only' }, label),
    block ? el('span', { class: 'skeleton-block', 'aria-hidden': 'true' }) : null,
    Array.from({ length: lines }, (_, i) => el('span', { class: ['skeleton-line', widths[i % widths.length]], 'aria-hidden': 'true' })),
  );
}

/** A card full of skeleton rows, the shape of a list page while it loads. */
export function skeletonCard({ rows = 4, label = 'Loading…' } = {}) {
  return el('div', { class: 'card', 'aria-busy': 'true', role: 'status' },
    el('span', { class: 'sr-only' }, label),
    el('div', { class: 'card-header', 'aria-hidden': 'true' }, el('span', { class: 'skeleton-line lg w-25' })),
    el('div', { class: 'card-body stack stack-sm', 'aria-hidden': 'true' },
      Array.from({ length: rows }, (_, i) => el('span', { class: ['skeleton-line', i % 2 ? 'w-60' : 'w-80'] })),
    ),
  );
}

/* ---------------------------------------------------------------- empty state */

/**
 * emptyState({icon:'automations', title:'No automations yet', body:'…',
 *             action:{label:'Request an automation', href:'/app/automations/new'} | {label, onClick},
 *             secondary:{label, href}})
 */
export function emptyState({ icon: iconName = 'info', title, body = null, action = null, secondary = null, headingLevel = 2, compact = false } = {}) {
  const btn = (a, kind) => a && (a.href
    ? el('a', { class: `btn ${kind}`, href: a.href }, a.icon ? icon(a.icon) : null, a.label)
    : el('button', { type: 'button', class: `btn ${kind}`, onclick: a.onClick }, a.icon ? icon(a.icon) : null, a.label));
  return el('section', { class: ['empty-state', compact && 'compact'] },
    el('div', { class: 'empty-state-icon', 'aria-hidden': 'true' }, icon(iconName)),
    el(`h${headingLevel}`, {}, title),
    body ? el('p', {}, body) : null,
    action || secondary ? el('div', { class: 'cluster' }, btn(action, 'btn-primary'), btn(secondary, 'btn-secondary')) : null,
  );
}

/* ---------------------------------------------------------------- statuses */

export const STATUSES = [
  'intake_in_progress', 'needs_pricing', 'awaiting_client_approval', 'ready_to_build',
  'build_in_progress', 'qa_testing', 'ready_to_launch', 'live', 'paused', 'blocked', 'archived',
];

export const STATUS_LABELS = {
  intake_in_progress: 'Intake',
  needs_pricing: 'Needs pricing',
  awaiting_client_approval: 'Awaiting approval',
  ready_to_build: 'Ready to build',
  build_in_progress: 'Building',
  qa_testing: 'QA testing',
  ready_to_launch: 'Ready to launch',
  live: 'Live',
  paused: 'Paused',
  blocked: 'Blocked',
  archived: 'Archived',
};

export function statusLabel(status) {
  return STATUS_LABELS[status] || String(status || '').replace(/_/g, ' ');
}

/** <span class="badge status-…">Label</span> — the same colour everywhere. */
export function statusBadge(status, { label = null } = {}) {
  return el('span', { class: `badge status-${status}`, dataset: { status } }, label || statusLabel(status));
}

// The steps of the status timeline. Each step is named by its status's label (STATUS_LABELS is
// the one table of status names); the build step, which spans two statuses, shows whichever of
// them the version is in.
export const TIMELINE_STEPS = [
  { key: 'intake', statuses: ['intake_in_progress'] },
  { key: 'pricing', statuses: ['needs_pricing'] },
  { key: 'approval', statuses: ['awaiting_client_approval'] },
  { key: 'build', statuses: ['build_in_progress', 'ready_to_build'] },
  { key: 'qa', statuses: ['qa_testing'] },
  { key: 'launch', statuses: ['ready_to_launch'] },
  { key: 'live', statuses: ['live'] },
].map((s) => ({ ...s, label: statusLabel(s.statuses[0]) }));

/**
 * The horizontal status timeline with the current step lit.
 * For `paused` pass nothing (it sits on Live); for `blocked` pass `{from: blocked_from}`.
 * At narrow widths only the dots show, with "Step n of 7 · label" under them (wrk.css).
 */
export function statusTimeline(status, { from = null } = {}) {
  let effective = status;
  if (status === 'paused') effective = from || 'live';
  if (status === 'blocked') effective = from || 'build_in_progress';
  const current = TIMELINE_STEPS.findIndex((s) => s.statuses.includes(effective));
  const mod = status === 'blocked' ? 'is-blocked' : status === 'paused' ? 'is-paused' : status === 'archived' ? 'is-archived' : null;
  const stepLabel = (step) => (step.statuses.includes(effective) ? statusLabel(effective) : step.label);
  const summary = current >= 0 && status !== 'archived'
    ? `Step ${current + 1} of ${TIMELINE_STEPS.length} · ${stepLabel(TIMELINE_STEPS[current])}${status === 'paused' || status === 'blocked' ? ` · ${statusLabel(status)}` : ''}`
    : statusLabel(status);
  return el('ol', { class: ['timeline', mod], 'aria-label': `Status: ${statusLabel(status)}`, dataset: { current: summary } },
    TIMELINE_STEPS.map((step, i) => {
      const isCurrent = i === current && status !== 'archived';
      const state = isCurrent ? 'is-current' : i < current || (status === 'live' && i <= current) ? 'is-done' : null;
      return el('li', { class: ['timeline-step', state], 'aria-current': isCurrent ? 'step' : null },
        el('span', { class: 'timeline-label' }, stepLabel(step)),
        isCurrent && (status === 'paused' || status === 'blocked')
          ? el('span', { class: 'timeline-note' }, statusLabel(status))
          : null,
        el('span', { class: 'sr-only' }, isCurrent ? ' (current)' : i < current ? ' (done)' : ''),
      );
    }),
  );
}

/* ---------------------------------------------------------------- tabs */

/**
 * Wire an ARIA tablist: `<div class="tabs" role="tablist">` with `<button class="tab" role="tab"
 * aria-controls="panel-id">` and panels `role="tabpanel"`. Arrow keys move, Home/End jump.
 * onChange(tabButton) is called after switching.
 */
export function wireTabs(tablist, { onChange = null } = {}) {
  const tabs = $$('[role="tab"]', tablist);
  const select = (tab, focus = false) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', on ? 'true' : 'false');
      t.tabIndex = on ? 0 : -1;
      const panel = document.getElementById(t.getAttribute('aria-controls'));
      if (panel) panel.hidden = !on;
    }
    if (focus) tab.focus();
    if (onChange) onChange(tab);
  };
  tabs.forEach((t) => {
    t.addEventListener('click', () => select(t));
    t.addEventListener('keydown', (e) => {
      const i = tabs.indexOf(t);
      let next = null;
      if (e.key === 'ArrowRight') next = tabs[(i + 1) % tabs.length];
      else if (e.key === 'ArrowLeft') next = tabs[(i - 1 + tabs.length) % tabs.length];
      else if (e.key === 'Home') next = tabs[0];
      else if (e.key === 'End') next = tabs[tabs.length - 1];
      if (next) { e.preventDefault(); select(next, true); }
    });
  });
  const initial = tabs.find((t) => t.getAttribute('aria-selected') === 'true') || tabs[0];
  if (initial) select(initial);
  return { select };
}

/* ---------------------------------------------------------------- formatting */

export function formatMoney(cents, currency = 'USD') {
  if (cents === null || cents === undefined) return '—';
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}

export function formatDate(iso, { time = false } = {}) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(undefined, time
    ? { dateStyle: 'medium', timeStyle: 'short' }
    : { dateStyle: 'medium' }).format(d);
}

export function relativeTime(iso, now = Date.now()) {
  const d = new Date(iso).getTime();
  if (Number.isNaN(d)) return '';
  const s = Math.round((d - now) / 1000);
  const abs = Math.abs(s);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (abs < 60) return rtf.format(s, 'second');
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  if (abs < 86400 * 30) return rtf.format(Math.round(s / 86400), 'day');
  return formatDate(iso);
}

/** Two-letter initials for avatars. */
export function initials(name) {
  const parts = String(name || '').trim().split(/[\s@._-]+/).filter(Boolean);
  if (!parts.length) return '?';
  return (parts[0][0] + (parts[1] ? parts[1][0] : '')).toUpperCase();
}

/** Set document.title as "<page> · <context> · WRK Copilot". */
export function setTitle(...parts) {
  document.title = [...parts.filter(Boolean), 'WRK Copilot'].join(' · ');
}
