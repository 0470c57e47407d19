// Accept an invitation (/invite?token=…): sign up or log in first, then join and open the workspace.
import { post } from '../api.js';
import { el, setBusy, announce, setTitle } from '../ui.js';
import { params, withNext, remember, switchTo, currentAccount, statusCard, logoutHere } from '../auth.js';

const INVITE_ERRORS = {
  invitation_expired: ['This invitation has expired', 'Invitations are valid for 7 days. Ask the person who invited you to send a new one.'],
  invitation_revoked: ['This invitation was withdrawn', 'An admin of the workspace revoked it. Ask them for a new invitation if you still need access.'],
  invitation_accepted: ['This invitation was already used', 'It has been accepted. Open your workspaces to continue.'],
  invalid_token: ['This invitation link is not valid', 'It may have been replaced by a newer invitation, or copied incompletely. Check your latest email.'],
  conflict: ["You're already a member", 'You already belong to this workspace. Open it from your workspaces.'],
};

export async function render() {
  setTitle('Join a workspace');
  const token = params.get('token');
  if (!token) {
    statusCard({ kind: 'error', title: 'This invitation link is incomplete', body: 'Open the link from your invitation email again.', actions: [el('a', { class: 'btn btn-primary', href: '/login' }, 'Log in')] });
    return;
  }
  const here = `/invite?token=${encodeURIComponent(token)}&continue=1`;
  const me = await currentAccount().catch(() => null);
  if (!me) {
    remember(here);
    statusCard({
      kind: 'info',
      title: "You've been invited to a workspace",
      body: [
        el('p', { class: 'lede' }, 'Create an account or log in to accept the invitation. You will land straight in the workspace.'),
      ],
      actions: [
        el('a', { class: 'btn btn-primary btn-lg', href: withNext('/signup', here), dataset: { signup: '' } }, 'Create an account'),
        el('a', { class: 'btn btn-secondary btn-lg', href: withNext('/login', here), dataset: { login: '' } }, 'Log in'),
      ],
    });
    return;
  }
  remember(null);
  const accept = async (btn) => {
    if (btn) setBusy(btn, true);
    try {
      const out = await post('/api/account/invitations/accept', { token });
      announce('Invitation accepted. Opening the workspace…');
      await switchTo(out.subdomain);
    } catch (err) {
      const [title, body] = INVITE_ERRORS[err.code] || ["We couldn't accept this invitation", err.problem?.detail || 'Try again in a moment.'];
      statusCard({
        kind: 'error',
        title,
        body,
        actions: [el('a', { class: 'btn btn-primary', href: '/workspaces' }, 'Your workspaces')],
      });
    }
  };
  if (params.get('continue')) {
    statusCard({ kind: 'info', title: 'Joining the workspace…', body: `Signed in as ${me.email}.` });
    await accept(null);
    return;
  }
  const btn = el('button', { type: 'button', class: 'btn btn-primary btn-lg', dataset: { accept: '' } }, 'Accept and join');
  btn.addEventListener('click', () => accept(btn));
  statusCard({
    kind: 'info',
    title: "You've been invited to a workspace",
    body: [el('p', { class: 'lede' }, 'You will join as ', el('strong', {}, me.name || me.email), ' (', me.email, ').')],
    actions: [
      btn,
      el('button', { type: 'button', class: 'btn btn-ghost', onclick: async () => { await logoutHere(); location.assign(withNext('/login', here)); } }, 'Use another account'),
    ],
  });
}
