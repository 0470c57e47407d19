// Host arithmetic. The apex is `{base}`, a workspace is `{slug}.{base}`, ops is `ops.{base}`.
// A browser only knows the host it is on, so we derive the others from it.

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function splitPort(host) {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return [host.slice(0, end + 1), host.slice(end + 1)];
  }
  const i = host.lastIndexOf(':');
  return i >= 0 ? [host.slice(0, i), host.slice(i)] : [host, ''];
}

/** True when `host` looks like a subdomain host (`x.{base}`) rather than an apex. */
export function hasSubdomain(host = location.host) {
  const [name] = splitPort(host);
  if (IPV4.test(name) || name.startsWith('[')) return false;
  const labels = name.split('.');
  if (labels[labels.length - 1] === 'localhost') return labels.length > 1;
  return labels.length > 2;
}

/** The first label of the current host (the workspace slug on `{slug}.{base}`), or null. */
export function subdomain(host = location.host) {
  return hasSubdomain(host) ? splitPort(host)[0].split('.')[0] : null;
}

/**
 * The apex host for a workspace/ops host: strip the first label (`acme.localhost:8080` →
 * `localhost:8080`). IP literals and single-label hosts are returned as they are.
 */
export function apexHost(host = location.host) {
  const [name, port] = splitPort(host);
  if (IPV4.test(name) || name.startsWith('[') || !name.includes('.')) return host;
  return name.split('.').slice(1).join('.') + port;
}

/** The base host from the apex page itself (no stripping). */
export function baseHostFromApex(host = location.host) {
  return host;
}

/** `//{apex}{path}` — protocol-relative link to the apex. */
export function apexUrl(path = '/', host = location.host) {
  return `//${apexHost(host)}${path}`;
}

/** `{slug}.{base}` */
export function workspaceHost(slug, base = apexHost()) {
  return `${slug}.${base}`;
}

export function workspaceUrl(slug, path = '/app', base = apexHost()) {
  return `//${workspaceHost(slug, base)}${path}`;
}

export function opsUrl(path = '/ops', base = apexHost()) {
  return `//ops.${base}${path}`;
}
