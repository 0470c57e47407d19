// Ops console: /ops/search?q=… — workspaces, automations and tasks across every workspace.
import { statusBadge } from '../ui.js';
import { searchPage, hit } from './search-results.js';

export function render(root, ctx) {
  return searchPage(root, ctx, {
    id: 'ops-search-q',
    action: '/ops/search',
    intro: 'Workspaces, automations and tasks across every workspace.',
    formLabel: 'Search every workspace',
    placeholder: 'Workspaces, automations, tasks…',
    hint: 'Type part of a workspace name or address, an automation name, or a task title.',
    endpoint: '/api/ops/search',
    noMatch: { label: 'Back to work queues', href: '/ops' },
    groups: (r) => [
      ['Workspaces', 'workspaces', r.workspaces.map((w) => hit(`/ops/workspaces?q=${encodeURIComponent(w.subdomain)}`, w.name, w.subdomain, null))],
      ['Automations', 'automations', r.automations.map((h) => hit(`/ops/automations/${h.workspace.id}/${h.automation.id}`, h.automation.name, h.workspace.name, statusBadge(h.automation.status)))],
      ['Tasks', 'tasks', r.tasks.map((h) => hit(`/ops/automations/${h.workspace.id}/${h.task.automation_id}`, h.task.title, h.workspace.name, null))],
    ],
  });
}
