//! Which part of the product a request is for, decided from its host name alone.
//!
//! `{base}` is the apex, `ops.{base}` the ops console, `{slug}.{base}` a workspace. Ports are
//! ignored on both sides, so `acme.localhost:41234` reaches workspace `acme` whatever port serves
//! it. `X-Forwarded-Host` is honoured only when the TCP peer is a configured trusted proxy;
//! otherwise anyone could pick a workspace by sending a header.

use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, Uri, header};
use wrk_tenants::control::TenantRecord;

pub use wrk_core::host::{HostMatch, classify};

/// The resolved scope a handler runs in; inserted into request extensions by the dispatcher.
#[derive(Debug, Clone)]
pub enum Scope {
    Apex,
    Ops,
    Tenant(TenantRecord),
}

/// The TCP peer of the connection, inserted by the server for every request.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// The request's effective host (`host[:port]`), honouring `X-Forwarded-Host` only from a trusted
/// proxy. HTTP/2 requests carry it in the URI authority rather than a `Host` header.
pub fn effective_host<'a>(
    headers: &'a HeaderMap,
    uri: &'a Uri,
    peer: Option<IpAddr>,
    trusted: &[IpAddr],
) -> Option<&'a str> {
    if peer.is_some_and(|p| trusted.contains(&p))
        && let Some(fwd) = headers
            .get("x-forwarded-host")
            .and_then(|v| v.to_str().ok())
    {
        // A proxy chain appends; the first value is what the client asked for.
        return fwd.split(',').next().map(str::trim);
    }
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
}

/// The client's IP for logs, audit rows and rate limits: the peer, or the left-most
/// `X-Forwarded-For` entry when the peer is a trusted proxy.
pub fn client_ip(headers: &HeaderMap, peer: Option<IpAddr>, trusted: &[IpAddr]) -> Option<IpAddr> {
    if let Some(p) = peer
        && trusted.contains(&p)
        && let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return Some(ip);
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_classified_ignoring_ports_and_case() {
        let base = "localhost";
        assert_eq!(classify("localhost:8080", base), HostMatch::Apex);
        assert_eq!(classify("LOCALHOST", base), HostMatch::Apex);
        assert_eq!(classify("ops.localhost:1", base), HostMatch::Ops);
        assert_eq!(
            classify("acme.localhost:41234", base),
            HostMatch::Slug("acme".into())
        );
        assert_eq!(classify("a.b.localhost", base), HostMatch::Foreign);
        assert_eq!(classify("127.0.0.1:8080", base), HostMatch::Foreign);
        assert_eq!(classify("evillocalhost", base), HostMatch::Foreign);
        assert_eq!(classify(".localhost", base), HostMatch::Foreign);
    }

    #[test]
    fn forwarded_host_is_ignored_unless_the_peer_is_trusted() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "acme.localhost".parse().unwrap());
        h.insert("x-forwarded-host", "beta.localhost".parse().unwrap());
        let uri = Uri::from_static("/");
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(
            effective_host(&h, &uri, Some(other), &[proxy]),
            Some("acme.localhost")
        );
        assert_eq!(
            effective_host(&h, &uri, Some(proxy), &[proxy]),
            Some("beta.localhost")
        );
    }
}
