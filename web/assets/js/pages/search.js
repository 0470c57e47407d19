// Search (/app/search?q=…): the workspace's automations, tasks and members matching the query,
// each hit a link. The top-bar box submits here; the page's own box searches again in place.
import { statusBadge } from '../ui.js';
import { taskBadge } from './tasks.js';
import { searchPage, hit } from './search-results.js';

export function render(root, ctx) {
  return searchPage(root, ctx, {
    id: 'search-page-q',
    action: '/app/search',
    intro: 'Automations, tasks and members of this workspace.',
    formLabel: 'Search this workspace',
    placeholder: 'Automations, tasks, people…',
    hint: 'Type part of an automation name, a task title, or a teammate’s name or email.',
    endpoint: '/api/search',
    noMatch: { label: 'View all automations', href: '/app/automations' },
    groups: (r) => [
      ['Automations', 'automations', r.automations.map((a) => hit(`/app/automations/${a.id}`, a.name, a.description, statusBadge(a.status)))],
      ['Tasks', 'tasks', r.tasks.map((t) => hit(`/app/automations/${t.automation_id}`, t.title, t.assignee === 'client' ? 'For your team' : 'For the WRK team', taskBadge(t.status)))],
      ['Members', 'members', r.members.map((m) => hit('/app/team', m.name || m.email, m.email, null))],
    ],
  });
}
