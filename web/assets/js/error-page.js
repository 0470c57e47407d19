// Error pages (workspace-not-found, workspace-moving, 404): show what was tried and where to go
// instead.
import { $$ } from './ui.js';
import { apexHost, apexUrl, subdomain } from './hosts.js';

const kind = document.body.dataset.error;

for (const node of $$('[data-address]')) {
  node.textContent = kind === 'workspace-not-found'
    ? `${location.protocol}//${location.host}/`
    : `${location.host}${location.pathname}`;
}

// Links to the apex: //<base host>/path (the first label of this host stripped).
for (const a of $$('[data-apex-href]')) a.setAttribute('href', apexUrl(a.dataset.apexHref));
for (const node of $$('[data-apex-host]')) node.textContent = apexHost();

// "Home" for an ordinary 404 depends on which host we are on.
for (const a of $$('[data-home-href]')) {
  const sub = subdomain();
  const home = sub === 'ops' ? '/ops' : sub ? '/app' : '/';
  a.setAttribute('href', home);
  if (sub) a.textContent = sub === 'ops' ? 'Go to the ops console' : 'Go to your workspace';
}

for (const b of $$('[data-back]')) {
  if (history.length > 1 && document.referrer) {
    b.hidden = false;
    b.addEventListener('click', () => history.back());
  }
}

// "Try again" on the moving page: the very address that was asked for.
for (const a of $$('[data-retry]')) a.setAttribute('href', location.href);
