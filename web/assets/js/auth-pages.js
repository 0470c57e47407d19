// The apex identity pages. Every shell loads this module; `<body data-page="…">` picks the page
// module (js/pages/<name>.js, exporting `render()`); js/auth.js holds what they share.
import { problemBanner } from './ui.js';

const PAGES = {
  signup: () => import('./pages/signup.js'),
  login: () => import('./pages/login.js'),
  'verify-email': () => import('./pages/verify-email.js'),
  'forgot-password': () => import('./pages/forgot-password.js'),
  'reset-password': () => import('./pages/reset-password.js'),
  'workspace-new': () => import('./pages/workspace-new.js'),
  workspaces: () => import('./pages/workspaces.js'),
  invite: () => import('./pages/invite.js'),
};

const load = PAGES[document.body.dataset.page];
if (load) {
  load().then((page) => page.render()).catch((err) => problemBanner(err)).finally(() => {
    document.body.dataset.ready = '1';
  });
}
