// The workspace picker (/workspaces): the account's workspaces; `?switch=slug` opens one directly.
import { get } from '../api.js';
import { $, el, mount, icon, setBusy, problemBanner, showBanner, setTitle, initials } from '../ui.js';
import { params, switchTo, currentAccount, requireLogin, wireLogoutButtons } from '../auth.js';

const ROLE_LABEL = { owner: 'Owner', admin: 'Admin', member: 'Member' };

export async function render() {
  setTitle('Your workspaces');
  wireLogoutButtons();
  const list = $('[data-workspaces]');
  const me = await currentAccount().catch((err) => { problemBanner(err); return undefined; });
  if (me === null) return requireLogin();
  if (!me) return;
  $('[data-signed-in-as]').replaceChildren('Signed in as ', el('strong', {}, me.email), '. Pick a workspace to open.');

  const target = params.get('switch');
  if (target) {
    try { return await switchTo(target); } catch (err) {
      if (err?.status === 403 || err?.status === 404) {
        showBanner({
          kind: 'warning',
          title: `You don't have access to ${target}.${location.host}`,
          detail: `${me.email} is not a member of that workspace. Ask one of its owners to invite you, or open one of your workspaces below.`,
          dismissible: false,
        });
      } else {
        problemBanner(err, { title: `We couldn't open ${target}` });
      }
    }
  }

  let items;
  try {
    items = (await get('/api/account/workspaces')).items || [];
  } catch (err) {
    mount(list);
    problemBanner(err, { title: "We couldn't load your workspaces" });
    return;
  }
  if (!items.length) {
    if (target) {
      mount(list, el('div', { class: 'auth-actions' }, el('a', { class: 'btn btn-primary', href: '/workspaces/new' }, 'Create a workspace')));
      return;
    }
    location.replace('/workspaces/new');
    return;
  }
  mount(list, el('ul', { class: 'ws-list', role: 'list' }, items.map((w) => {
    const btn = el('button', { type: 'button', class: 'ws-item', dataset: { subdomain: w.subdomain } },
      el('span', { class: 'workspace-avatar', 'aria-hidden': 'true' }, initials(w.name || w.subdomain)),
      el('span', { class: 'ws-text' },
        el('span', { class: 'ws-name' }, w.name),
        el('span', { class: 'ws-host' }, `${w.subdomain}.${location.host}`),
      ),
      el('span', { class: 'badge tone-neutral no-dot' }, ROLE_LABEL[w.role] || w.role),
      icon('arrowRight'),
    );
    btn.addEventListener('click', async () => {
      setBusy(btn, true);
      try { await switchTo(w.subdomain); } catch (err) {
        setBusy(btn, false);
        problemBanner(err, { title: `We couldn't open ${w.name}` });
      }
    });
    return el('li', {}, btn);
  })));
}
