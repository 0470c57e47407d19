//! What a request's host name names: the apex (`{base}`), the ops console (`ops.{base}`), a
//! workspace (`{slug}.{base}`) or nothing of ours. Pure string rules, so the host's router and
//! the fuzz target (`fuzz/fuzz_targets/host_routing.rs`) run the same code; the lookup of a slug
//! and the trust in `X-Forwarded-Host` stay in the host.

/// What a host name names, before any lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostMatch {
    Apex,
    Ops,
    /// A single label under the base domain; it may or may not be a workspace.
    Slug(String),
    /// Not under the base domain at all (an IP, another name).
    Foreign,
}

/// `host[:port]` → `host` (IPv6 literals in brackets keep their brackets).
pub fn host_only(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .find(']')
            .map_or(authority, |end| &authority[..=end]);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// Classifies `host` (with or without port) against the base host (without port). Ports and
/// ASCII case are ignored, and so is one trailing dot.
pub fn classify(host: &str, base_host: &str) -> HostMatch {
    let name = host_only(host).trim_end_matches('.').to_ascii_lowercase();
    if name == base_host {
        return HostMatch::Apex;
    }
    let Some(label) = name
        .strip_suffix(base_host)
        .and_then(|rest| rest.strip_suffix('.'))
    else {
        return HostMatch::Foreign;
    };
    if label == "ops" {
        HostMatch::Ops
    } else if !label.is_empty() && !label.contains('.') {
        HostMatch::Slug(label.to_owned())
    } else {
        HostMatch::Foreign
    }
}
