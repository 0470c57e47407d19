// An automation's thread with the other side (flow 30), for the workspace's automation page and
// the ops automation view: the messages, oldest first, a box to write one, and new messages as
// they arrive over the live stream. Bodies come rendered by the server from a small markdown
// subset (`body_html`); they are rebuilt here element by element from an inert parse, keeping
// only the subset's tags and safe link targets, so no markup from a message ever runs.
import { get, post } from '../api.js';
import { el, mount, emptyState, setBusy, problemBanner, relativeTime, formatDate, list, icon, announce } from '../ui.js';
import { onLive } from '../live.js';

const TAGS = new Set(['P', 'STRONG', 'EM', 'CODE', 'A', 'UL', 'OL', 'LI', 'BLOCKQUOTE', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'PRE', 'DEL', 'BR', 'HR']);

function safeHref(href) {
  const h = (href || '').trim().toLowerCase();
  return h.startsWith('https://') || h.startsWith('http://') || h.startsWith('mailto:') || (h.startsWith('/') && !h.startsWith('//'));
}

/** DOM nodes for the subset's HTML: unknown elements become their text. */
function rebuild(node) {
  const out = [];
  for (const child of node.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) { out.push(document.createTextNode(child.textContent)); continue; }
    if (child.nodeType !== Node.ELEMENT_NODE) continue;
    const kids = rebuild(child);
    if (!TAGS.has(child.tagName)) { out.push(...kids); continue; }
    const attrs = {};
    if (child.tagName === 'A') {
      const href = child.getAttribute('href');
      if (!safeHref(href)) { out.push(...kids); continue; }
      attrs.href = href;
      attrs.rel = 'noopener noreferrer nofollow';
      if (!href.startsWith('/')) attrs.target = '_blank';
    }
    out.push(el(child.tagName.toLowerCase(), attrs, ...kids));
  }
  return out;
}

export function messageBody(html) {
  const doc = new DOMParser().parseFromString(`<body>${html || ''}</body>`, 'text/html');
  return el('div', { class: 'message-body' }, rebuild(doc.body));
}

function authorLabel(a, side) {
  if (a.kind === 'system') return 'WRK Copilot';
  if (side === 'workspace' && a.kind === 'ops') return `${a.name.replace(/ \(WRK\)$/, '')} · WRK team`;
  return a.name;
}

function messageItem(m, side) {
  const mine = (side === 'workspace' && m.author.kind === 'user') || (side === 'ops' && m.author.kind === 'ops');
  return el('li', { class: ['message', `message-${m.author.kind}`, mine && 'is-mine'], dataset: { messageId: m.id } },
    el('div', { class: 'message-meta' },
      el('strong', {}, authorLabel(m.author, side)),
      el('time', { datetime: m.created_at, title: formatDate(m.created_at, { time: true }) }, relativeTime(m.created_at))),
    messageBody(m.body_html));
}

/**
 * The thread panel. `url`: the messages collection (`…/automations/{id}/messages`);
 * `automationId` and `tenantId` pick this thread's live events; `side`: 'workspace' or 'ops'.
 */
export function threadPanel({ url, automationId, tenantId = null, side, readOnly = false, onRead = null }) {
  // Focusable: it scrolls, and keyboard users must be able to scroll it too.
  const listEl = el('ol', { class: 'message-list', tabindex: '0', 'aria-live': 'polite', 'aria-label': 'Messages', dataset: { messages: '' } });
  const empty = emptyState({ icon: 'message', title: 'No messages yet', body: side === 'ops' ? 'Write to the workspace about this automation.' : 'Questions about this automation? Write to the WRK team here.', compact: true });
  const box = el('textarea', { id: `message-body-${automationId}`, class: 'input', rows: 3, maxlength: 10000, required: true, dataset: { messageInput: '' } });
  const send = el('button', { type: 'submit', class: 'btn btn-primary', dataset: { messageSend: '' } }, 'Send');
  const errors = el('div', { class: 'banners', 'aria-live': 'polite' });
  const form = el('form', { class: 'message-form stack stack-sm', novalidate: true },
    el('label', { for: box.id }, side === 'ops' ? 'Message to the workspace' : 'Message to the WRK team'),
    box,
    el('p', { class: 'help' }, 'Markdown works: **bold**, _italic_, `code`, lists and links.'),
    el('div', { class: 'cluster' }, send));
  const wrap = el('div', { class: 'card card-body stack thread', dataset: { thread: automationId } }, errors, empty, listEl, readOnly ? el('p', { class: 'help' }, 'This automation is archived; its thread is read-only.') : form);
  const seen = new Set();
  let last = null;

  function add(items) {
    for (const m of items) {
      if (seen.has(m.id)) continue;
      seen.add(m.id);
      listEl.append(messageItem(m, side));
      last = m.id;
    }
    empty.hidden = seen.size > 0;
  }

  async function markRead() {
    try { await post(`${url}/read`, {}); onRead?.(); } catch { /* the count stays; nothing to tell */ }
  }

  async function loadNew() {
    try {
      let page;
      do {
        page = await get(url, { query: { after: last || '', limit: 200 } });
        add(list(page));
      } while (page.next_cursor);
      if (document.visibilityState === 'visible') markRead();
    } catch (err) {
      problemBanner(err, { title: "We couldn't load the messages", in: errors });
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = box.value.trim();
    if (!body) { box.focus(); return; }
    setBusy(send, true);
    try {
      const m = await post(url, { body });
      add([m]);
      box.value = '';
      announce('Message sent');
    } catch (err) {
      problemBanner(err, { title: "The message wasn't sent", in: errors });
    } finally {
      setBusy(send, false);
    }
  });

  onLive('message.created', (d) => {
    if (d.automation_id !== automationId || (tenantId && d.tenant_id !== tenantId)) return;
    if (!seen.has(d.id)) loadNew();
  });
  loadNew();
  return wrap;
}
