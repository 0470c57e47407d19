// Live updates over server-sent events: one EventSource per page, opened once the session is
// known to be signed in (a refused stream would be a console error). The browser sends the
// session cookie, reconnects by itself and resumes with Last-Event-ID, so nothing is missed.
//
//     import { onLive } from './live.js';
//     onLive('message.created', (data) => { … });   // data: the event's JSON (with tenant_id)

const handlers = new Map();
let source = null;

const KINDS = ['message.created', 'version.status_changed', 'task.created', 'task.updated', 'notification.created'];

/** Opens the stream at `path` (`/api/events` or `/api/ops/events`); again is a no-op. */
export function connectLive(path) {
  if (source || typeof EventSource === 'undefined') return;
  source = new EventSource(path);
  for (const kind of KINDS) {
    source.addEventListener(kind, (e) => {
      let data = {};
      try { data = JSON.parse(e.data); } catch { return; }
      for (const fn of handlers.get(kind) || []) fn(data);
      for (const fn of handlers.get('*') || []) fn(data, kind);
    });
  }
  // Close before the page goes away, so no aborted request is reported.
  window.addEventListener('pagehide', () => { source?.close(); source = null; });
}

/** Calls `fn(data)` for every event of `kind` (`'*'`: every event, as `fn(data, kind)`). */
export function onLive(kind, fn) {
  if (!handlers.has(kind)) handlers.set(kind, new Set());
  handlers.get(kind).add(fn);
  return () => handlers.get(kind)?.delete(fn);
}
