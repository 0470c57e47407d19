// Team (/app/team): members with their roles, invitations, and the invite form.
// Admins and owners change roles, remove members, invite, resend and revoke; members see the list.
import { get, post, patch, del } from '../api.js';
import {
  $, el, mount, setBusy, applyProblemToForm, clearFieldErrors, problemBanner, showBanner, clearBanners,
  announce, formatDate, relativeTime, emptyState, skeletonCard, setFieldError, list,
} from '../ui.js';
import { confirmDialog, roleBadge, canAdmin } from './common.js';

const ROLES = ['member', 'admin', 'owner'];
const ROLE_HELP = {
  member: 'Requests automations, follows their progress and answers tasks.',
  admin: 'Everything a member does, plus team, API keys, credentials and billing.',
  owner: 'Full control, including other owners. A workspace always keeps at least one.',
};
const STATUS_TONE = { pending: 'tone-warning', accepted: 'tone-success', revoked: 'tone-neutral', expired: 'tone-neutral' };
const cap = (s) => (s ? s.charAt(0).toUpperCase() + s.slice(1) : s);

export async function render(root, ctx) {
  ctx.setTitle('Team');
  const admin = canAdmin(ctx);
  const membersSlot = el('div', { 'aria-live': 'polite' }, skeletonCard({ rows: 3, label: 'Loading members…' }));
  const invitesSlot = admin ? el('div', { 'aria-live': 'polite' }, skeletonCard({ rows: 2, label: 'Loading invitations…' })) : null;

  mount(root,
    el('div', { class: 'page-header' },
      el('div', {},
        el('h1', {}, 'Team'),
        el('p', {}, `People in ${ctx.me.tenant?.name || 'this workspace'} and what each of them can do.`),
      ),
    ),
    el('div', { class: 'stack stack-lg' },
      admin ? inviteCard(ctx, () => loadInvitations()) : null,
      membersSlot,
      invitesSlot,
    ),
  );

  async function loadMembers() {
    try {
      const members = list(await get('/api/members'));
      mount(membersSlot, membersCard(ctx, members, admin, loadMembers));
    } catch (err) {
      mount(membersSlot);
      problemBanner(err, { title: "We couldn't load the members" });
    }
  }
  async function loadInvitations() {
    if (!invitesSlot) return;
    try {
      const invitations = list(await get('/api/invitations'));
      mount(invitesSlot, invitationsCard(invitations, loadInvitations));
    } catch (err) {
      mount(invitesSlot);
      problemBanner(err, { title: "We couldn't load the invitations" });
    }
  }
  await Promise.all([loadMembers(), loadInvitations()]);
  if (ctx.segments[1] === 'invite') $('#invite-email', root)?.focus();
}

function inviteCard(ctx, reload) {
  const roles = ctx.me.role === 'owner' ? ROLES : ROLES.filter((r) => r !== 'owner');
  const roleHelp = el('p', { class: 'help', id: 'invite-role-help' }, ROLE_HELP.member);
  const select = el('select', { id: 'invite-role', name: 'role', 'aria-describedby': 'invite-role-help' },
    roles.map((r) => el('option', { value: r }, cap(r))));
  select.addEventListener('change', () => { roleHelp.textContent = ROLE_HELP[select.value]; });
  const submit = el('button', { type: 'submit', class: 'btn btn-primary' }, 'Send invitation');
  const form = el('form', { class: 'invite-form', novalidate: true, dataset: { form: 'invite' } },
    el('div', { class: 'field grow' },
      el('label', { for: 'invite-email' }, 'Email address'),
      el('input', { id: 'invite-email', name: 'email', type: 'email', autocomplete: 'off', required: true, spellcheck: 'false', placeholder: 'colleague@company.com' }),
    ),
    el('div', { class: 'field' },
      el('label', { for: 'invite-role' }, 'Role'),
      select,
    ),
    el('div', { class: 'field field-submit' }, el('span', { class: 'label', 'aria-hidden': 'true' }, '\u00a0'), submit),
  );
  form.append(roleHelp);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearBanners();
    clearFieldErrors(form);
    const email = form.elements.email.value.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
      setFieldError(form.elements.email, 'Enter an email address like name@company.com.');
      form.elements.email.focus();
      return;
    }
    setBusy(submit, true);
    try {
      const inv = await post('/api/invitations', { email, role: select.value });
      form.reset();
      roleHelp.textContent = ROLE_HELP.member;
      showBanner({ kind: 'success', title: 'Invitation sent', detail: `${inv.email} will get an email with a link to join as ${inv.role}. It's valid for 7 days.` });
      announce(`Invitation sent to ${inv.email}`);
      await reload();
    } catch (err) {
      if (err.status === 409) {
        setFieldError(form.elements.email, err.problem?.detail || 'This person is already a member or already invited.');
        form.elements.email.focus();
      } else {
        applyProblemToForm(form, err);
      }
    } finally {
      setBusy(submit, false);
    }
  });
  return el('section', { class: 'card', 'aria-labelledby': 'invite-title' },
    el('div', { class: 'card-header' }, el('h2', { id: 'invite-title' }, 'Invite a teammate')),
    el('div', { class: 'card-body' }, form),
  );
}

function membersCard(ctx, members, admin, reload) {
  const meId = ctx.me.user?.id;
  const rows = members.map((m) => {
    const isMe = m.user_id === meId;
    let roleCell = roleBadge(m.role);
    if (admin && (ctx.me.role === 'owner' || m.role !== 'owner')) {
      const options = ctx.me.role === 'owner' ? ROLES : ROLES.filter((r) => r !== 'owner');
      const select = el('select', { class: 'select-sm', 'aria-label': `Role of ${m.name || m.email}`, dataset: { member: m.user_id } },
        options.map((r) => el('option', { value: r, selected: r === m.role }, cap(r))));
      select.addEventListener('change', async () => {
        const before = m.role;
        select.disabled = true;
        clearBanners();
        try {
          const updated = await patch(`/api/members/${encodeURIComponent(m.user_id)}`, { role: select.value });
          m.role = updated.role;
          announce(`${m.name || m.email} is now ${updated.role}`);
          showBanner({ kind: 'success', title: 'Role updated', detail: `${m.name || m.email} is now ${cap(updated.role)}.` });
        } catch (err) {
          select.value = before;
          problemBanner(err, { title: "The role wasn't changed" });
        } finally {
          select.disabled = false;
        }
      });
      roleCell = select;
    }
    // A workspace always keeps an owner: its only owner can neither leave nor be removed.
    const soleOwner = m.role === 'owner' && members.filter((x) => x.role === 'owner').length === 1;
    const remove = (admin || isMe) && !soleOwner
      ? el('button', { type: 'button', class: 'btn btn-ghost btn-sm is-danger-text', dataset: { remove: m.user_id } }, isMe ? 'Leave' : 'Remove')
      : null;
    const keep = soleOwner && (admin || isMe)
      ? el('span', { class: 'cell-sub', dataset: { soleOwner: m.user_id } }, isMe
        ? 'You are the only owner. Make another member an owner before you leave.'
        : 'The only owner: make another member an owner first.')
      : null;
    remove?.addEventListener('click', async () => {
      clearBanners();
      const who = m.name || m.email;
      const ok = await confirmDialog({
        title: isMe ? 'Leave this workspace?' : `Remove ${who}?`,
        body: isMe
          ? 'You will lose access at once. An admin can invite you again.'
          : `${who} loses access to ${ctx.me.tenant?.name || 'this workspace'} at once. Their past activity stays in the audit log.`,
        confirmLabel: isMe ? 'Leave workspace' : 'Remove member',
        danger: true,
        action: () => del(`/api/members/${encodeURIComponent(m.user_id)}`),
      });
      if (!ok) return;
      if (isMe) { location.assign(ctx.apexUrl('/workspaces')); return; }
      announce(`${who} removed`);
      showBanner({ kind: 'success', title: 'Member removed', detail: `${who} no longer has access.` });
      await reload();
    });
    return el('tr', { dataset: { memberRow: m.user_id } },
      el('td', {},
        el('div', { class: 'person' },
          el('span', { class: 'avatar', 'aria-hidden': 'true' }, (m.name || m.email || '?').slice(0, 1).toUpperCase()),
          el('span', { class: 'person-text' },
            el('span', { class: 'person-name' }, m.name || m.email, isMe ? el('span', { class: 'subtle' }, ' (you)') : null),
            el('span', { class: 'person-email' }, m.email),
          ),
        ),
      ),
      el('td', {}, roleCell),
      el('td', { class: 'hide-sm' }, el('time', { datetime: m.joined_at, title: formatDate(m.joined_at, { time: true }) }, formatDate(m.joined_at))),
      el('td', { class: 'actions' }, remove, keep),
    );
  });
  return el('section', { class: 'card', 'aria-labelledby': 'members-title' },
    el('div', { class: 'card-header' }, el('h2', { id: 'members-title' }, 'Members'), el('span', { class: 'count-badge is-muted', dataset: { count: String(members.length) } }, String(members.length))),
    el('div', { class: 'table-wrap flush' },
      el('table', { class: 'table', dataset: { members: '' } },
        el('caption', { class: 'sr-only' }, 'Members of this workspace'),
        el('thead', {}, el('tr', {},
          el('th', { scope: 'col' }, 'Person'),
          el('th', { scope: 'col' }, 'Role'),
          el('th', { scope: 'col', class: 'hide-sm' }, 'Joined'),
          el('th', { scope: 'col' }, el('span', { class: 'sr-only' }, 'Actions')),
        )),
        el('tbody', {}, rows),
      ),
    ),
  );
}

function invitationsCard(invitations, reload) {
  const shown = invitations.filter((i) => i.status !== 'accepted');
  const body = shown.length
    ? el('div', { class: 'table-wrap flush' },
      el('table', { class: 'table', dataset: { invitations: '' } },
        el('caption', { class: 'sr-only' }, 'Invitations'),
        el('thead', {}, el('tr', {},
          el('th', { scope: 'col' }, 'Email'),
          el('th', { scope: 'col' }, 'Role'),
          el('th', { scope: 'col' }, 'Status'),
          el('th', { scope: 'col', class: 'hide-sm' }, 'Expires'),
          el('th', { scope: 'col' }, el('span', { class: 'sr-only' }, 'Actions')),
        )),
        el('tbody', {}, shown.map((inv) => invitationRow(inv, reload))),
      ))
    : el('div', { class: 'card-body' }, emptyState({ icon: 'team', title: 'No pending invitations', body: 'Invitations you send appear here until they are accepted.', compact: true, headingLevel: 3 }));
  return el('section', { class: 'card', 'aria-labelledby': 'invitations-title' },
    el('div', { class: 'card-header' }, el('h2', { id: 'invitations-title' }, 'Invitations')),
    body,
  );
}

function invitationRow(inv, reload) {
  const pending = inv.status === 'pending';
  const resend = el('button', { type: 'button', class: 'btn btn-secondary btn-sm', dataset: { resend: inv.id } }, 'Resend');
  const revoke = el('button', { type: 'button', class: 'btn btn-ghost btn-sm is-danger-text', dataset: { revoke: inv.id } }, 'Revoke');
  resend.addEventListener('click', async () => {
    clearBanners();
    setBusy(resend, true);
    try {
      await post(`/api/invitations/${encodeURIComponent(inv.id)}/resend`, {});
      showBanner({ kind: 'success', title: 'Invitation sent again', detail: `${inv.email} has a new link; the old one no longer works.` });
      announce(`Invitation resent to ${inv.email}`);
      await reload();
    } catch (err) {
      setBusy(resend, false);
      problemBanner(err, { title: "The invitation wasn't resent" });
    }
  });
  revoke.addEventListener('click', async () => {
    clearBanners();
    const ok = await confirmDialog({
      title: `Revoke the invitation for ${inv.email}?`,
      body: 'The link in their email stops working at once. You can invite them again later.',
      confirmLabel: 'Revoke invitation',
      danger: true,
      action: () => del(`/api/invitations/${encodeURIComponent(inv.id)}`),
    });
    if (!ok) return;
    announce(`Invitation for ${inv.email} revoked`);
    await reload();
  });
  const expires = inv.status === 'pending'
    ? el('time', { datetime: inv.expires_at, title: formatDate(inv.expires_at, { time: true }) }, relativeTime(inv.expires_at))
    : '—';
  return el('tr', { dataset: { invitationRow: inv.id, email: inv.email } },
    el('td', { class: 'break' }, inv.email),
    el('td', {}, roleBadge(inv.role)),
    el('td', {}, el('span', { class: `badge ${STATUS_TONE[inv.status] || 'tone-neutral'}`, dataset: { status: inv.status } }, cap(inv.status))),
    el('td', { class: 'hide-sm' }, expires),
    el('td', { class: 'actions' }, pending ? el('div', { class: 'row-actions' }, resend, revoke) : inv.status === 'expired' ? resend : null),
  );
}
