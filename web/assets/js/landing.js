// Apex landing: fill in the host so people see where their workspace will live.
import { $$ } from './ui.js';

for (const node of $$('[data-host]')) node.textContent = location.host || 'localhost:8080';
for (const node of $$('[data-year]')) node.textContent = String(new Date().getFullYear());
