// Small pieces shared by the workspace page modules: a confirmation dialog and copy-to-clipboard.
import { el, icon, setBusy } from '../ui.js';

/**
 * A modal confirmation (native <dialog>: focus trapped, Escape cancels). Resolves true on confirm.
 * With `action`, the confirm button stays busy while it runs; a thrown error keeps the dialog
 * open and shows the problem's `detail` inside it.
 */
export function confirmDialog({ title, body = null, confirmLabel = 'Confirm', danger = false, action = null }) {
  return new Promise((resolve) => {
    const error = el('p', { class: 'field-error', role: 'alert' });
    const confirm = el('button', { type: 'submit', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], value: 'confirm' }, confirmLabel);
    const cancel = el('button', { type: 'button', class: 'btn btn-secondary', value: 'cancel' }, 'Cancel');
    const heading = el('h2', { id: `dlg-${Date.now()}` }, title);
    const dialog = el('dialog', { class: 'dialog', 'aria-labelledby': heading.id },
      el('form', { method: 'dialog', class: 'dialog-body' },
        heading,
        body ? el('p', { class: 'muted' }, body) : null,
        error,
        el('div', { class: 'dialog-actions' }, cancel, confirm),
      ),
    );
    let settled = false;
    const finish = (ok) => {
      if (settled) return;
      settled = true;
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    cancel.addEventListener('click', () => finish(false));
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); finish(false); });
    dialog.querySelector('form').addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!action) { finish(true); return; }
      error.textContent = '';
      setBusy(confirm, true);
      try {
        await action();
        finish(true);
      } catch (err) {
        setBusy(confirm, false);
        error.textContent = err?.problem?.detail || err?.message || 'Something went wrong.';
      }
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** Copies `text`; resolves true when it worked. */
export async function copyText(text, fallbackInput = null) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (fallbackInput) {
      fallbackInput.select();
      try { return document.execCommand('copy'); } catch { return false; }
    }
    return false;
  }
}

/** A small "role" badge. */
export function roleBadge(role) {
  const tone = role === 'owner' ? 'tone-accent' : role === 'admin' ? 'tone-info' : 'tone-neutral';
  return el('span', { class: `badge no-dot ${tone}` }, role ? role.charAt(0).toUpperCase() + role.slice(1) : '—');
}

export const canAdmin = (ctx) => ctx.me?.role === 'owner' || ctx.me?.role === 'admin';

export { icon };
