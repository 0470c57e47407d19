// Status moves for one automation version, shared by the workspace detail page and the ops
// detail view. Buttons come ONLY from the version's `allowed_transitions`; the labels, the
// consequence line and whether a reason is asked for depend on the (from, to) pair.
import { post } from '../api.js';
import { el, mount, setBusy, showBanner, statusLabel, announce } from '../ui.js';
import { confirmDialog } from './common.js';

/** (from, to) → {label, consequence, reason?, confirm?, danger?} */
export function describeMove(from, to) {
  if (to === 'archived') return { label: 'Archive', consequence: 'Read-only from then on; hidden from the list by default.', confirm: true, danger: true };
  if (to === 'blocked') return { label: 'Block', consequence: 'Stops work until the cause is cleared. The client is notified.', reason: 'Why is it blocked?', danger: true };
  if (from === 'blocked') return { label: `Unblock (back to ${statusLabel(to)})`, consequence: 'Only once the cause is cleared.' };
  if (from === 'qa_testing' && to === 'build_in_progress') return { label: 'Back to build', consequence: 'Returns the version to the build team.', reason: 'What needs fixing?' };
  if (from === 'qa_testing' && to === 'needs_pricing') return { label: 'Scope change', consequence: 'A new quote revision is generated.', reason: 'What changed in the scope?' };
  const labels = {
    needs_pricing: ['Submit for pricing', 'Checks the blueprint, then prices it and sends you a quote.'],
    awaiting_client_approval: ['Send quote to client', 'Needs a quote in "sent".'],
    ready_to_build: ['Mark ready to build', 'Needs a signed quote and the setup fee paid.'],
    build_in_progress: ['Start build', 'Creates the build checklist.'],
    qa_testing: ['Send to QA', 'The build is handed to QA.'],
    ready_to_launch: ['Approve QA', 'Needs every QA task closed.'],
    live: from === 'paused' ? ['Resume', 'Runs start again (no failed credentials allowed).'] : ['Go live', 'Deploys this version; the previous live version is archived.'],
    paused: ['Pause', 'Runs stop until resumed. Nothing is lost.'],
  };
  const [label, consequence] = labels[to] || [`Move to ${statusLabel(to)}`, ''];
  return { label, consequence };
}

/** A reason prompt (native dialog). Resolves the trimmed text, or null on cancel. */
function askReason(title, prompt) {
  return new Promise((resolve) => {
    const input = el('textarea', { id: 'transition-reason', name: 'reason', rows: '3', required: true });
    const error = el('p', { class: 'field-error', role: 'alert', hidden: true });
    const ok = el('button', { type: 'submit', class: 'btn btn-primary' }, title);
    const cancel = el('button', { type: 'button', class: 'btn btn-secondary' }, 'Cancel');
    const heading = el('h2', { id: `reason-${Date.now()}` }, title);
    const dialog = el('dialog', { class: 'dialog', 'aria-labelledby': heading.id },
      el('form', { method: 'dialog', class: 'dialog-body' },
        heading,
        el('div', { class: 'field' }, el('label', { for: 'transition-reason' }, prompt), input, error),
        el('div', { class: 'dialog-actions' }, cancel, ok)));
    const finish = (v) => { dialog.close(); dialog.remove(); resolve(v); };
    cancel.addEventListener('click', () => finish(null));
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); finish(null); });
    dialog.querySelector('form').addEventListener('submit', (e) => {
      e.preventDefault();
      const v = input.value.trim();
      if (!v) { error.hidden = false; error.textContent = 'A reason is required for this move.'; input.setAttribute('aria-invalid', 'true'); input.focus(); return; }
      finish(v);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    input.focus();
  });
}

/** Shows a transition problem as a banner: 422 lists every failed guard, 409 the allowed moves. */
export function transitionProblem(err, region) {
  const p = err?.problem || {};
  const failed = Array.isArray(p.failed) ? p.failed : [];
  const allowed = Array.isArray(p.allowed) ? p.allowed : null;
  const title = p.code === 'guard_failed' ? 'Not yet: some conditions are not met'
    : p.code === 'transition_not_permitted' ? "That move isn't yours to make"
      : p.code === 'invalid_transition' ? "That move isn't possible from here" : (p.title || "The status didn't change");
  const node = showBanner({
    in: region,
    kind: 'error',
    title,
    detail: p.detail || err?.message || 'Something went wrong.',
    actions: [
      failed.length ? el('ul', { class: 'guard-list', dataset: { failedGuards: '' } },
        failed.map((f) => el('li', {}, typeof f === 'string' ? f : (f.message || f.code)))) : null,
      allowed ? el('p', { class: 'help' }, allowed.length ? `Possible from here: ${allowed.map(statusLabel).join(', ')}.` : 'No moves are possible from here.') : null,
    ].filter(Boolean),
  });
  node.dataset.problem = p.code || '';
  return node;
}

/**
 * The action bar. `url` is the version's base URL (…/versions/{n}); `onDone(version)` gets the
 * updated version after a successful move.
 */
export function actionBar(version, { url, onDone, bannerIn, readOnly = false }) {
  const from = version.status;
  const moves = (version.allowed_transitions || []);
  if (readOnly || !moves.length) {
    return el('div', { class: 'action-bar is-empty', dataset: { actions: '' } },
      el('p', { class: 'help' }, from === 'archived' ? 'Archived: read-only.' : 'No moves are yours to make right now. We will let you know when something needs you.'));
  }
  const primary = moves.find((t) => t !== 'archived' && t !== 'blocked');
  return el('div', { class: 'action-bar', dataset: { actions: '' } },
    moves.map((to) => {
      const m = describeMove(from, to);
      const btn = el('button', {
        type: 'button',
        class: ['btn', to === primary ? 'btn-primary' : m.danger ? 'btn-danger-outline' : 'btn-secondary'],
        dataset: { to },
        'aria-describedby': `move-${to}-note`,
      }, m.label);
      btn.addEventListener('click', async () => {
        let reason;
        if (m.reason) {
          reason = await askReason(m.label, m.reason);
          if (reason === null) return;
        }
        if (m.confirm) {
          const ok = await confirmDialog({ title: `${m.label} this automation?`, body: m.consequence, confirmLabel: m.label, danger: m.danger });
          if (!ok) return;
        }
        bannerIn?.replaceChildren();
        setBusy(btn, true);
        try {
          const v = await post(`${url}/transitions`, { to, reason });
          announce(`Status: ${statusLabel(v.status)}`);
          await onDone(v);
        } catch (err) {
          setBusy(btn, false);
          transitionProblem(err, bannerIn);
        }
      });
      return el('div', { class: 'action' }, btn, m.consequence ? el('p', { class: 'btn-consequence', id: `move-${to}-note` }, m.consequence) : null);
    }));
}

/** The Paused / Blocked banner with its reason and what to do (null otherwise). */
export function stateBanner(version, history = []) {
  if (version.status !== 'paused' && version.status !== 'blocked') return null;
  const last = [...history].reverse().find((h) => h.to === version.status);
  const reason = last?.reason;
  if (version.status === 'blocked') {
    return el('div', { dataset: { stateBanner: 'blocked' } }, mountBanner('error', 'Blocked',
      `${reason ? `Reason: ${reason}. ` : ''}Work is on hold${version.blocked_from ? ` (it was ${statusLabel(version.blocked_from)})` : ''}. Fix the cause — usually a credential — and it resumes where it stopped.`));
  }
  return el('div', { dataset: { stateBanner: 'paused' } }, mountBanner('warning', 'Paused',
    `${reason ? `Reason: ${reason}. ` : ''}No runs happen while paused. Resume when you are ready; nothing is lost.`));
}

function mountBanner(kind, title, detail) {
  const holder = el('div');
  showBanner({ in: holder, kind, title, detail, dismissible: false });
  return mount(el('div'), ...holder.childNodes);
}
